// One HTTP GET to a port inside a sandbox, as a check sees a learner's server: through the runtime's
// connection (the port preview's), bounded in bytes and time, the answer read as hostile input.
import type { Runtime } from './runtime';

const MAX_BYTES = 256 * 1024;
const TIMEOUT_MS = 5000;

export type HttpAnswer = { status: number; body: string };

export async function httpGet(runtime: Runtime, sandboxId: string, port: number, path: string): Promise<HttpAnswer> {
  const stream = await runtime.connect(sandboxId, port);
  return new Promise<HttpAnswer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      clearTimeout(timer);
      stream.destroy();
      if (err && size === 0) return reject(err);
      const text = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(text);
      if (!status) return reject(new Error(`port ${port} does not answer HTTP`));
      const at = text.indexOf('\r\n\r\n');
      resolve({ status: Number(status[1]), body: at < 0 ? '' : text.slice(at + 4) });
    };
    const timer = setTimeout(() => done(new Error(`port ${port} did not answer within 5 s`)), TIMEOUT_MS);
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BYTES) chunks.push(chunk);
      else done();
    });
    stream.on('end', () => done());
    stream.on('error', (err: Error) => done(err));
    stream.write(`GET ${path} HTTP/1.0\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`);
  });
}
