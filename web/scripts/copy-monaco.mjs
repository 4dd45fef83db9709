// Monaco and its workers are served by the app itself (no CDN): copy its AMD build into public/.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const pkgDir = path.resolve(path.dirname(require.resolve('monaco-editor')), '../..'); // …/min/vs/index.js
const version = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
const target = path.resolve(import.meta.dirname, '../public/monaco');
const stamp = path.join(target, 'VERSION');

if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== version) {
  rmSync(target, { recursive: true, force: true });
  cpSync(path.join(pkgDir, 'min', 'vs'), path.join(target, 'vs'), { recursive: true });
  writeFileSync(stamp, version);
  console.log(`monaco-editor ${version} copied to web/public/monaco`);
}
