// The web build's hashed files (/_next/static/…), sent as the build compressed them (web/scripts/
// compress-static.mjs writes a .br and a .gz beside each). Next would gzip each script again for every page
// load, on this process's CPU, while the same page's socket waits for that CPU to hand out its sandbox.
// Anything the build did not compress (or a build without the copies) is left to Next.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const PREFIX = '/_next/static/';
// A hashed build file's name: no '..' segment, nothing but these characters (so no way out of static/).
const REL = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[\w.~-]+(?:\/[\w.~-]+)*$/;
const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=UTF-8',
  '.css': 'text/css; charset=UTF-8',
  '.json': 'application/json; charset=UTF-8',
  '.map': 'application/json; charset=UTF-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=UTF-8',
};
type Encoding = 'br' | 'gzip';
/** The file, not a link's target (static/ holds no links; one there is nobody's to follow). */
async function readOwn(file: string): Promise<Buffer> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

type Asset = { type: string; br: Buffer; gzip: Buffer; raw: Buffer } | null; // null: not one of the build's

/** Which of brotli and gzip the request accepts (brotli first), from Accept-Encoding. */
export function acceptedEncoding(header: string | string[] | undefined): Encoding | null {
  const accepted = new Set<string>();
  for (const part of String(header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name && (q === undefined || Number(q) > 0)) accepted.add(name);
  }
  return accepted.has('br') ? 'br' : accepted.has('gzip') ? 'gzip' : null;
}

export function builtAssets(staticDir: string): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const cache = new Map<string, Promise<Asset>>();
  const load = async (rel: string): Promise<Asset> => {
    const type = TYPES[path.extname(rel)];
    if (!type) return null;
    const file = path.join(staticDir, rel);
    try {
      const [raw, br, gzip] = await Promise.all([readOwn(file), readOwn(`${file}.br`), readOwn(`${file}.gz`)]);
      return { type, raw, br, gzip };
    } catch {
      return null;
    }
  };

  /** Answers the request if it is for one of the build's compressed files; false: Next's to answer. */
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '';
    if (!url.startsWith(PREFIX)) return false;
    const rel = url.slice(PREFIX.length).split('?')[0]!;
    if (!REL.test(rel)) return false;
    let entry = cache.get(rel);
    if (!entry) cache.set(rel, (entry = load(rel)));
    const asset = await entry;
    // A file that is not there yet (a build being swapped in) is looked for again next time.
    if (!asset) {
      cache.delete(rel);
      return false;
    }
    const encoding = acceptedEncoding(req.headers['accept-encoding']);
    const body = encoding ? asset[encoding] : asset.raw;
    res.statusCode = 200;
    res.setHeader('content-type', asset.type);
    res.setHeader('cache-control', 'public, max-age=31536000, immutable');
    res.setHeader('vary', 'Accept-Encoding');
    if (encoding) res.setHeader('content-encoding', encoding);
    res.setHeader('content-length', body.length);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
