// What the Layers view accepts from a learner's engine. Everything that answers on that socket is the
// learner's (root in the sandbox can replace the engine), so its answers are hostile input: each size,
// count and wait has a limit, and passing one ends the read with an error that says, in plain words,
// what the engine sent that was too much.

export type Limit =
  | 'bytes' // bytes of the image export, read or unpacked
  | 'entries' // files (tar entries) in the export, all layers together
  | 'layers' // layers in the export
  | 'json' // one JSON member of the export (manifest.json, index.json, a config)
  | 'path' // one file path or link target
  | 'names' // all the paths and link targets kept, together
  | 'answer' // one answer of the engine API that is read whole (image JSON, history)
  | 'time' // the whole read
  | 'idle'; // a wait for the next bytes

/** The learner's engine sent something the Layers view cannot read: not a tar, cut short, corrupt. */
export class EngineExportError extends Error {
  readonly code: string = 'engine_export';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineExportError';
  }
}

/** The learner's engine sent more than a limit allows; the read stopped there. */
export class EngineLimitError extends EngineExportError {
  override readonly code = 'engine_limit';

  constructor(
    readonly limit: Limit,
    /** The limit passed: bytes, a count, characters or milliseconds, as `limit` says. */
    readonly max: number,
    message: string,
  ) {
    super(message);
    this.name = 'EngineLimitError';
  }
}

/** Any failure of a read as the error to report: a limit or format error as it is, the rest wrapped. */
export function asExportError(err: unknown, what: string): EngineExportError {
  if (err instanceof EngineExportError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new EngineExportError(`${what} could not be read: ${message}`, { cause: err });
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** 4 MiB, 32 GiB, 100 kB-ish sizes in words; binary units, as the limits are set. */
export function bytesInWords(n: number): string {
  if (n >= GiB) return `${round(n / GiB)} GiB`;
  if (n >= MiB) return `${round(n / MiB)} MiB`;
  if (n >= KiB) return `${round(n / KiB)} KiB`;
  return `${n} bytes`;
}

export const countInWords = (n: number) => n.toLocaleString('en-US');

export function durationInWords(ms: number): string {
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} minutes`;
  if (ms >= 1000) return `${round(ms / 1000)} s`;
  return `${ms} ms`;
}

const round = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
