// The lesson page's boot scripts (web/boot/: socket.ts, then terminal.ts): bundled on their own, outside
// Next.js, so the page runs them before and beside the framework's scripts rather than after hydration.
// `bundle` (before `next build`) writes them to web/.boot/ under names of their contents' hashes, and
// their names (manifest.json), from which next.config.ts gives the page the socket's code (inline: it runs
// as the HTML is parsed, with no request of its own) and the terminal's address; `install` (after)
// copies the terminal's among the build's hashed files, which the server sends compressed
// (compress-static.mjs) and cached for good.
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const web = path.resolve(import.meta.dirname, '..');
const out = path.join(web, '.boot');
const manifest = path.join(out, 'manifest.json');
const phase = process.argv[2];

if (phase === 'bundle') {
  rmSync(out, { recursive: true, force: true });
  const result = await build({
    entryPoints: ['socket', 'terminal'].map((name) => path.join(web, 'boot', `${name}.ts`)),
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2022',
    outdir: out,
    entryNames: '[name]-[hash]',
    metafile: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const files = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
  const named = (name) => files.find((f) => f.startsWith(`${name}-`));
  const scripts = { socket: named('socket'), terminal: named('terminal') };
  writeFileSync(manifest, JSON.stringify(scripts));
  for (const file of files)
    console.log(`boot script: ${file}, ${(statSync(path.join(out, file)).size / 1024).toFixed(0)} kB`);
} else if (phase === 'install') {
  const target = path.join(web, process.env.DOCKSIDE_WEB_BUILD_DIR ?? '.next', 'static', 'boot');
  mkdirSync(target, { recursive: true });
  const { terminal } = JSON.parse(readFileSync(manifest, 'utf8'));
  copyFileSync(path.join(out, terminal), path.join(target, terminal));
} else {
  throw new Error('usage: build-boot.mjs bundle|install');
}
