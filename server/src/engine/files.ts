// Files for the editor, under /workspace. Every operation runs *inside* the sandbox (its own mount
// namespace and root), so a learner's symlink can only ever point at the learner's own files; links that
// leave /workspace are refused all the same. Paths are passed as arguments, never spliced into scripts.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Runtime } from './runtime';

export const WORKSPACE = '/workspace';
export const MAX_FILE_BYTES = 1024 * 1024;

export class FileError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}

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

// Shared prologue: resolve $1 inside the sandbox and make sure it stays under /workspace.
const RESOLVE = `
resolve() { r=$(realpath -e -- "$1" 2>/dev/null) || exit 3; case "$r/" in ${WORKSPACE}/*) ;; *) exit 4;; esac; }
`;

const SCRIPTS = {
  list: `${RESOLVE} resolve "$1"; [ -d "$r" ] || exit 5; find "$r" -mindepth 1 -maxdepth 1 -printf '%y\\t%s\\t%T@\\t%f\\0'`,
  read: `${RESOLVE} resolve "$1"; [ -f "$r" ] || exit 5; s=$(stat -c %s -- "$r"); [ "$s" -le ${MAX_FILE_BYTES} ] || exit 6; cat -- "$r"`,
  write: `${RESOLVE} resolve "$(dirname -- "$1")"; d=$r; f="$d/$(basename -- "$1")"
[ -d "$f" ] && exit 5
if [ -n "$2" ]; then
  if [ -e "$f" ]; then cur=$(sha256sum -- "$f" | cut -c1-64); else cur=missing; fi
  [ "$cur" = "$2" ] || { printf %s "$cur"; exit 7; }
fi
t="$d/.dockside-save.$$"; cat > "$t" && mv -f -- "$t" "$f" || { rm -f -- "$t"; exit 1; }
sha256sum -- "$f" | cut -c1-64`,
  create: `${RESOLVE} resolve "$(dirname -- "$1")"; f="$r/$(basename -- "$1")"; [ -e "$f" ] || [ -L "$f" ] && exit 8
if [ "$2" = dir ]; then mkdir -- "$f"; else : > "$f"; fi`,
  rename: `${RESOLVE} resolve "$1"; from=$r; [ "$from" = ${WORKSPACE} ] && exit 4
resolve "$(dirname -- "$2")"; to="$r/$(basename -- "$2")"; [ -e "$to" ] || [ -L "$to" ] && exit 8
mv -- "$from" "$to"`,
  remove: `p=$(realpath -m -- "$1"); case "$p" in ${WORKSPACE}/*) ;; *) exit 4;; esac
d=$(realpath -e -- "$(dirname -- "$p")" 2>/dev/null) || exit 3; case "$d/" in ${WORKSPACE}/*) ;; *) exit 4;; esac
[ -e "$p" ] || [ -L "$p" ] || exit 3; rm -rf -- "$p"`,
};

export class WorkspaceFiles {
  constructor(private readonly runtime: Runtime) {}

  private async run(sandboxId: string, op: keyof typeof SCRIPTS, args: string[], stdin?: Buffer) {
    const r = await this.runtime.exec(sandboxId, ['sh', '-c', SCRIPTS[op], 'sh', ...args], {
      stdin,
      timeoutMs: 15_000,
    });
    const p = args[0]!;
    switch (r.code) {
      case 0:
        return r.stdout;
      case 3:
        throw new FileError(404, 'not_found', `${p} does not exist`);
      case 4:
        throw new FileError(403, 'outside_workspace', `${p} leads outside ${WORKSPACE} (links out are not followed)`);
      case 5:
        throw new FileError(
          400,
          'wrong_type',
          op === 'list' ? `${p} is not a directory` : `${p} is not a regular file`,
        );
      case 6:
        throw new FileError(413, 'too_large', `${p} is larger than 1 MiB; open it in the terminal instead`);
      case 7:
        throw new FileError(409, 'conflict', `${p} changed since you opened it`, {
          current: { etag: r.stdout.toString() },
        });
      case 8:
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
    const out = await this.run(sandboxId, 'write', [p, etag ?? ''], bytes);
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
