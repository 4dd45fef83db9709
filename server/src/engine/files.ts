// Files for the editor, under /workspace. The runtime does every operation from outside the sandbox with
// openat2, as the sandbox's root, and runs none of the sandbox's programs (the learner may have replaced
// any of them): links that leave /workspace are refused, magic links never followed.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DocksideError } from '../errors';
import { FILE_EXIT, type FileOp, type Runtime } from './runtime';

export const WORKSPACE = '/workspace';
export const MAX_FILE_BYTES = 1024 * 1024;

/** A file operation refused or failed (its status and code are API.md's). */
export class FileError extends DocksideError {}

export type FileEntry = {
  name: string;
  path: string;
  type: 'file' | 'dir' | 'link' | 'other';
  size: number;
  mtime: number;
};

/** A normalised absolute path under /workspace, or a 400. */
export function workspacePath(input: unknown): string {
  if (typeof input !== 'string' || input.length === 0 || input.length > 1024 || input.includes('\0'))
    throw new FileError(400, 'bad_path', 'path must be a non-empty string of at most 1024 characters');
  const p = path.posix.normalize(input.startsWith('/') ? input : `${WORKSPACE}/${input}`).replace(/\/+$/, '');
  if (p !== WORKSPACE && !p.startsWith(`${WORKSPACE}/`))
    throw new FileError(400, 'outside_workspace', `${input} is outside ${WORKSPACE}`);
  return p;
}

export function etagOf(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Runs one file operation in the sandbox from outside (native/files.c) and maps its exit code. */
export class WorkspaceFiles {
  constructor(private readonly runtime: Runtime) {}

  private async run(sandboxId: string, op: FileOp, args: string[], stdin?: Buffer) {
    const r = await this.runtime.file(sandboxId, op, args, { stdin });
    const p = args[0]!;
    switch (r.code) {
      case 0:
        return r.stdout;
      case FILE_EXIT.notFound:
        throw new FileError(404, 'not_found', `${p} does not exist`);
      case FILE_EXIT.outside:
        throw new FileError(403, 'outside_workspace', `${p} leads outside ${WORKSPACE} (links out are not followed)`);
      case FILE_EXIT.wrongType:
        throw new FileError(
          400,
          'wrong_type',
          op === 'list'
            ? `${p} is not a directory`
            : op === 'remove'
              ? `${p} cannot be deleted`
              : `${p} is not a regular file`,
        );
      case FILE_EXIT.tooLarge:
        throw new FileError(413, 'too_large', `${p} is larger than 1 MiB; open it in the terminal instead`);
      case FILE_EXIT.conflict:
        throw new FileError(409, 'conflict', `${p} changed since you opened it`, {
          current: { etag: r.stdout.toString().trim() },
        });
      case FILE_EXIT.exists:
        throw new FileError(409, 'exists', `${op === 'rename' ? args[1] : p} already exists`);
      default:
        throw new FileError(500, 'failed', `could not ${op} ${p}: ${r.stderr.trim() || `exit ${r.code}`}`);
    }
  }

  async list(sandboxId: string, dir: string): Promise<FileEntry[]> {
    const p = workspacePath(dir);
    const out = (await this.run(sandboxId, 'list', [p])).toString('utf8');
    const types: Record<string, FileEntry['type']> = { f: 'file', d: 'dir', l: 'link' };
    return out
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const [type, size, mtime, ...name] = line.split('\t');
        const n = name.join('\t');
        return {
          name: n,
          path: `${p}/${n}`,
          type: types[type!] ?? 'other',
          size: Number(size),
          mtime: Math.round(Number(mtime) * 1000),
        };
      })
      .sort((a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || a.name.localeCompare(b.name));
  }

  async read(sandboxId: string, file: string): Promise<{ path: string; content: string; etag: string }> {
    const p = workspacePath(file);
    const bytes = await this.run(sandboxId, 'read', [p]);
    if (bytes.includes(0) || !isUtf8(bytes))
      throw new FileError(415, 'binary', `${p} is a binary file; the editor opens text files only`);
    return { path: p, content: bytes.toString('utf8'), etag: etagOf(bytes) };
  }

  /** Saves a file; with `etag`, only if nobody changed it since it was read (else 409 with the new etag). */
  async write(
    sandboxId: string,
    file: string,
    content: string,
    etag?: string,
  ): Promise<{ path: string; etag: string }> {
    const p = workspacePath(file);
    if (p === WORKSPACE) throw new FileError(400, 'wrong_type', `${p} is a directory`);
    const bytes = Buffer.from(content, 'utf8');
    if (bytes.length > MAX_FILE_BYTES)
      throw new FileError(413, 'too_large', 'a file in the editor can be at most 1 MiB');
    if (etag !== undefined && !/^([0-9a-f]{64}|missing)$/.test(etag))
      throw new FileError(400, 'bad_etag', 'etag is malformed');
    const out = await this.run(sandboxId, 'write', [p, ...(etag ? ['--if-match', etag] : [])], bytes);
    return { path: p, etag: out.toString('utf8').trim() };
  }

  async create(sandboxId: string, file: string, type: 'file' | 'dir'): Promise<{ path: string }> {
    const p = workspacePath(file);
    await this.run(sandboxId, 'create', [p, type]);
    return { path: p };
  }

  async rename(sandboxId: string, from: string, to: string): Promise<{ path: string }> {
    const a = workspacePath(from);
    const b = workspacePath(to);
    await this.run(sandboxId, 'rename', [a, b]);
    return { path: b };
  }

  async remove(sandboxId: string, file: string): Promise<{ deleted: string }> {
    const p = workspacePath(file);
    if (p === WORKSPACE) throw new FileError(400, 'wrong_type', `${WORKSPACE} itself cannot be deleted`);
    await this.run(sandboxId, 'remove', [p]);
    return { deleted: p };
  }
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
