// The server's end of a terminal session held inside a sandbox (native/src/session.c): a Unix socket
// with framed messages. The holder keeps the pty and its scrollback, so the session outlives this
// process; attaching again replays the scrollback.
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';

/** Type byte, 4-byte big-endian length, payload: the holder's frames (native/README.md). */
const HEADER = 5;
const MAX_FRAME = 64 * 1024;

export type SessionHandlers = {
  /** Output the session printed before we attached (its scrollback), then everything after. */
  scrollback: (data: string) => void;
  /** From here on, output is new. */
  live: () => void;
  output: (data: string) => void;
  /** The program ended with this status, or (null) the holder went away (the sandbox stopped). */
  exit: (code: number | null) => void;
};

export class HeldSession {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly decoder = new StringDecoder('utf8');
  private ended = false;

  private constructor(
    private readonly socket: net.Socket,
    private readonly on: SessionHandlers,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => {}); // a reset is a close: 'close' follows
    socket.on('close', () => this.finish(null));
  }

  /** Attaches to the session whose socket is at `path`; rejects when nothing holds it any more. */
  static attach(path: string, on: SessionHandlers): Promise<HeldSession> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new HeldSession(socket, on));
      });
    });
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    let at = 0;
    while (this.buffered.length - at >= HEADER) {
      const type = String.fromCharCode(this.buffered[at]!);
      const length = this.buffered.readUInt32BE(at + 1);
      if (length > MAX_FRAME) return void this.socket.destroy();
      if (this.buffered.length - at < HEADER + length) break;
      const payload = this.buffered.subarray(at + HEADER, at + HEADER + length);
      at += HEADER + length;
      if (type === 's') this.on.scrollback(this.decoder.write(payload));
      else if (type === 'l') this.on.live();
      else if (type === 'o') this.on.output(this.decoder.write(payload));
      else if (type === 'x' && length === 4) this.finish(payload.readInt32BE(0));
    }
    this.buffered = this.buffered.subarray(at);
  }

  private finish(code: number | null): void {
    if (this.ended) return;
    this.ended = true;
    const rest = this.decoder.end();
    if (rest) this.on.output(rest);
    this.socket.destroy();
    this.on.exit(code);
  }

  private send(type: string, payload: Buffer = Buffer.alloc(0)): void {
    if (this.ended) return;
    const header = Buffer.alloc(HEADER);
    header.write(type, 0, 'latin1');
    header.writeUInt32BE(payload.length, 1);
    this.socket.write(Buffer.concat([header, payload]));
  }

  write(data: string): void {
    const bytes = Buffer.from(data, 'utf8');
    for (let at = 0; at < bytes.length; at += MAX_FRAME) this.send('i', bytes.subarray(at, at + MAX_FRAME));
  }

  resize(cols: number, rows: number): void {
    const size = Buffer.alloc(4);
    size.writeUInt16BE(cols, 0);
    size.writeUInt16BE(rows, 2);
    this.send('r', size);
  }

  /** Ends the program as closing a terminal window does (SIGHUP, then SIGKILL if it lingers). */
  hangup(): void {
    this.send('h');
  }

  /** Flow control: while paused, the holder stops reading the program's output once it is far ahead. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Lets go of the session; it runs on in the sandbox. */
  detach(): void {
    this.ended = true;
    this.socket.destroy();
  }
}
