// The server's end of dockside-agent (native/src/agent.c), the program in a sandbox pod that the driver
// reaches by pod IP: every connection shows the pod's secret, then asks for one command (framed output
// and an exit code) or one byte stream (a terminal, the engine's API, a port).
import net from 'node:net';
import { Duplex } from 'node:stream';
import { MAX_OUTPUT_BYTES, RuntimeError } from '../engine/nativeRuntime';
import type { ExecOptions, ExecResult } from '../engine/runtime';

const HEADER = 5;
const MAX_FRAME = 64 * 1024;
const MAX_STDERR_CHARS = 64 * 1024;
const CONNECT_TIMEOUT_MS = 5_000;

export type AgentAddress = { host: string; port: number; token: string };

function frame(type: string, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** Splits a byte stream into frames; `rest` is what came after the last whole one. */
class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): { type: string; payload: Buffer }[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames = [];
    while (this.buffered.length >= HEADER) {
      const length = this.buffered.readUInt32BE(1);
      if (length > MAX_FRAME) throw new RuntimeError(null, 'the sandbox agent sent a frame too large');
      if (this.buffered.length < HEADER + length) break;
      frames.push({
        type: String.fromCharCode(this.buffered[0]!),
        payload: this.buffered.subarray(HEADER, HEADER + length),
      });
      this.buffered = this.buffered.subarray(HEADER + length);
      if (frames.at(-1)!.type === 'k') break; // raw bytes from here
    }
    return frames;
  }
  get rest(): Buffer {
    return this.buffered;
  }
}

export class AgentClient {
  constructor(readonly address: AgentAddress) {}

  private open(words: string[]): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const { host, port, token } = this.address;
      const socket = net.connect({ host, port, noDelay: true });
      const timer = setTimeout(
        () => socket.destroy(new RuntimeError(5, `the sandbox agent at ${host}:${port} did not answer`)),
        CONNECT_TIMEOUT_MS,
      );
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(
          e instanceof RuntimeError
            ? e
            : new RuntimeError(5, `cannot reach the sandbox agent at ${host}:${port}: ${e.message}`),
        );
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.write(Buffer.concat([frame('a', token), frame('c', words.join('\0'))]));
        resolve(socket);
      });
    });
  }

  /** Runs a request whose answer is output and an exit code (exec, file, session, sessions). */
  async run(words: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const limit = opts.maxOutputBytes ?? MAX_OUTPUT_BYTES;
    const socket = await this.open(words);
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      let outBytes = 0;
      let err = '';
      let settled = false;
      const reader = new FrameReader();
      const finish = (e: Error | null, code = 1) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (e) reject(e);
        else resolve({ code, stdout: Buffer.concat(out), stderr: err });
      };
      const timer = opts.timeoutMs
        ? setTimeout(
            () => finish(new RuntimeError(null, `${words[0]} took longer than ${opts.timeoutMs} ms and was stopped`)),
            opts.timeoutMs,
          )
        : undefined;
      socket.on('data', (chunk: Buffer) => {
        let frames;
        try {
          frames = reader.push(chunk);
        } catch (e) {
          return finish(e as Error);
        }
        for (const f of frames) {
          if (f.type === 'o') {
            outBytes += f.payload.length;
            if (outBytes > limit)
              return finish(new RuntimeError(null, `${words[0]} printed more than ${limit} bytes and was stopped`));
            out.push(Buffer.from(f.payload));
          } else if (f.type === 'e') {
            if (err.length < MAX_STDERR_CHARS)
              err += f.payload.toString('utf8').slice(0, MAX_STDERR_CHARS - err.length);
          } else if (f.type === 'x' && f.payload.length === 4) return finish(null, f.payload.readInt32BE(0));
        }
      });
      socket.on('error', (e) => finish(new RuntimeError(null, `the sandbox agent's connection failed: ${e.message}`)));
      socket.on('close', () =>
        finish(new RuntimeError(null, `the sandbox agent closed the connection during ${words[0]}`)),
      );
      const stdin = opts.stdin === undefined ? Buffer.alloc(0) : Buffer.from(opts.stdin);
      const parts = [];
      for (let at = 0; at < stdin.length; at += MAX_FRAME) parts.push(frame('i', stdin.subarray(at, at + MAX_FRAME)));
      socket.write(Buffer.concat([...parts, frame('E')]));
    });
  }

  /** Opens a byte stream (attach NAME, docker, tcp PORT); rejects with what the agent said when it cannot. */
  async stream(words: string[]): Promise<Duplex> {
    const socket = await this.open(words);
    return new Promise((resolve, reject) => {
      const reader = new FrameReader();
      // After 'k' the socket's bytes are the stream's, with the socket paused while its reader lags.
      const stream = new Duplex({
        read: () => socket.resume(),
        write: (chunk: Buffer, _enc, cb) => void socket.write(chunk, cb),
        final: (cb) => {
          socket.end();
          cb();
        },
        destroy: (e, cb) => {
          socket.destroy();
          cb(e);
        },
      });
      let raw = false;
      let err = '';
      const toIncoming = (chunk: Buffer) => {
        if (!stream.push(chunk)) socket.pause();
      };
      socket.on('data', (chunk: Buffer) => {
        if (raw) return toIncoming(chunk);
        let frames;
        try {
          frames = reader.push(chunk);
        } catch (e) {
          socket.destroy();
          return reject(e as Error);
        }
        for (const f of frames) {
          if (f.type === 'e') err += f.payload.toString('utf8');
          else if (f.type === 'x') {
            socket.destroy();
            return reject(new RuntimeError(f.payload.readInt32BE(0), err || `the sandbox agent refused ${words[0]}`));
          } else if (f.type === 'k') {
            raw = true;
            if (reader.rest.length) toIncoming(reader.rest);
            socket.on('end', () => stream.push(null));
            socket.on('close', () => stream.destroy());
            return resolve(stream);
          }
        }
      });
      socket.once('close', () => {
        if (!raw) reject(new RuntimeError(5, `the sandbox agent closed the connection during ${words[0]}`));
      });
      socket.on('error', () => {});
    });
  }
}
