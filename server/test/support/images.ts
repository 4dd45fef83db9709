// Test images made on the spot: nothing can be pulled in these tests.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MiB = 1024 ** 2;

/** A tiny image from the host's static busybox: nothing can be pulled in these tests. */
export function busyboxTar(): Buffer {
  const root = mkdtempSync(path.join(os.tmpdir(), 'dockside-bb-'));
  mkdirSync(path.join(root, 'bin'));
  mkdirSync(path.join(root, 'tmp'));
  mkdirSync(path.join(root, 'www'));
  execFileSync('cp', ['/bin/busybox', path.join(root, 'bin/busybox')]);
  for (const applet of [
    'sh',
    'echo',
    'cat',
    'ls',
    'httpd',
    'sleep',
    'dd',
    'head',
    'tail',
    'hostname',
    'ps',
    'rm',
    'seq',
    'true',
    'nc',
    'tr',
  ])
    symlinkSync('busybox', path.join(root, 'bin', applet));
  execFileSync('sh', ['-c', `echo '<h1>hello from a sandbox</h1>' > ${root}/www/index.html`]);
  const tar = execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 * MiB });
  rmSync(root, { recursive: true, force: true });
  return tar;
}
