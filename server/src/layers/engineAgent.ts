// An http.Agent for Docker clients of learners' engines (`new Docker({ socketPath, agent })`), for the
// answers docker-modem reads whole into memory, which the export limits of saveTar.ts do not cover:
// - GET …/json, …/history and …/changes (image and container inspect, the lists, a history, a
//   container's changes) are buffered whole whatever their size, and wait as long as the engine likes;
// - the body of any answer that is not a 2xx, even to a streaming call such as the export, is
//   concatenated into one string (past V8's 512 MB limit that throws in an event handler: a crash);
// - a 3xx with a Location is followed, to any host, over TCP: the learner's engine could make the
//   server send requests inside its network, and a Location of another protocol (ftp:) throws where
//   nothing catches it.
// The agent caps those answers (bytes and time) and never lets a redirect be followed. Streaming
// answers with a 2xx (events, logs, the export itself) pass untouched.
import { Agent, type AgentOptions, type ClientRequest, type IncomingMessage } from 'node:http';
import Docker from 'dockerode';
import { bytesInWords, durationInWords, EngineLimitError, MiB } from './limits';

export type AnswerLimits = {
  /** Bytes of one answer read whole. */
  bytes: number;
  /** From the request to the answer's end. */
  timeMs: number;
};

export const ANSWER_LIMITS: Readonly<AnswerLimits> = Object.freeze({
  bytes: 16 * MiB, // an engine with 1,000 images lists them in about 1 MB
  timeMs: 60_000,
});

// The engine API's calls that docker-modem buffers: none of them streams.
const BUFFERED = /\/(json|history|changes)$/;

type AddRequest = (req: ClientRequest, options: unknown) => void;
const addRequest = (Agent.prototype as unknown as { addRequest: AddRequest }).addRequest;

export class EngineAnswerAgent extends Agent {
  constructor(
    private readonly limits: AnswerLimits = ANSWER_LIMITS,
    options?: AgentOptions,
  ) {
    super(options);
  }

  // Node calls this once per request, after the request's own callback is registered (where docker-modem
  // follows redirects) and before docker-modem adds its listeners. Node's typings leave it out, but it
  // has been the agent's entry point since Node 0.x, and agent libraries override it too.
  addRequest(req: ClientRequest, options: unknown): void {
    watch(req, this.limits);
    addRequest.call(this, req, options);
  }
}

/** A Docker client option: `new Docker({ socketPath, agent: engineAnswerAgent() })`. */
export const engineAnswerAgent = (limits: Partial<AnswerLimits> = {}) =>
  new EngineAnswerAgent({ ...ANSWER_LIMITS, ...limits });

/** A Docker client for a learner's engine, with its answers capped (dockerode's typings omit `agent`). */
export const engineDocker = (socketPath: string, limits: Partial<AnswerLimits> = {}) =>
  new Docker({ socketPath, agent: engineAnswerAgent(limits) } as Docker.DockerOptions);

function watch(req: ClientRequest, limits: AnswerLimits): void {
  const target = req.path.replace(/\?.*$/, '');
  const call = `${req.method} ${shorten(target)}`;
  const buffered = req.method === 'GET' && BUFFERED.test(target);
  let answer: IncomingMessage | undefined;
  // Once the answer has begun, destroying it is what reaches docker-modem on both of its paths (a
  // buffered answer reports the request's error, a streaming one its answer's); the socket goes with it.
  const stop = (err: EngineLimitError) => (answer ? answer.destroy(err) : req.destroy(err));
  let timer: NodeJS.Timeout | undefined;
  const startTimer = () => {
    timer ??= setTimeout(
      () =>
        stop(
          new EngineLimitError(
            'time',
            limits.timeMs,
            `your engine took longer than ${durationInWords(limits.timeMs)} to answer ${call}; Dockside stopped waiting`,
          ),
        ),
      limits.timeMs,
    );
  };
  if (buffered) startTimer();
  req.once('close', () => clearTimeout(timer));
  // First of the 'response' listeners: before docker-modem's redirect callback and its own reading.
  req.prependListener('response', (res: IncomingMessage) => {
    const status = res.statusCode ?? 0;
    const failed = status < 200 || status > 299;
    if (failed) delete res.headers.location; // so docker-modem reports the status, and goes nowhere
    if (!buffered && !failed) return;
    answer = res;
    startTimer();
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.bytes)
        stop(
          new EngineLimitError(
            'answer',
            limits.bytes,
            `your engine's answer to ${call} is larger than ${bytesInWords(limits.bytes)}; Dockside stopped reading it`,
          ),
        );
    });
    res.once('end', () => clearTimeout(timer));
  });
}

const shorten = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}…` : s);
