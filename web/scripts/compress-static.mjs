// Writes a brotli (.br) and a gzip (.gz) copy beside each of the build's hashed text files
// (<build>/static/**), once, at build time: the server sends those as they are (server/src/http/builtAssets.ts)
// instead of compressing every script again for every page load, on the CPU the page's own socket needs.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = path.resolve(import.meta.dirname, '..', process.env.DOCKSIDE_WEB_BUILD_DIR ?? '.next', 'static');
const TEXT = /\.(js|css|json|svg|txt|map)$/;

let files = 0;
let before = 0;
let after = 0;
for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !TEXT.test(entry.name)) continue;
  const file = path.join(entry.parentPath, entry.name);
  const raw = readFileSync(file);
  const br = brotliCompressSync(raw, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
  });
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gzipSync(raw, { level: 9 }));
  files++;
  before += raw.length;
  after += br.length;
}
console.log(
  `compressed ${files} built files: ${(before / 1024).toFixed(0)} kB → ${(after / 1024).toFixed(0)} kB (brotli)`,
);
