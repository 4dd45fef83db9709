// A CA and a TLS certificate for Docker Hub's names, made once with openssl: the hub (./hub.ts) serves
// with it, and the base image trusts the CA, so a sandbox's dockerd talks to "registry-1.docker.io" here.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

export const HUB_NAMES = ['registry-1.docker.io', 'index.docker.io', 'docker.io'];

export type HubTls = { key: Buffer; cert: Buffer; caFile: string };

/** A CA and a certificate for Docker Hub's names, made once with openssl; the CA is copied to `caCopy`. */
export function ensureHubCertificate(tlsDir: string, caCopy: string): HubTls {
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const f = (n: string) => path.join(tlsDir, n);
  if (!existsSync(f('hub.crt')) || !existsSync(f('hub.key')) || !existsSync(f('ca.crt'))) {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=Dockside local CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.crt.new'),
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${HUB_NAMES[0]}`,
      '-keyout',
      f('hub.key.new'),
      '-out',
      f('hub.csr'),
    );
    writeFileSync(
      f('hub.ext'),
      `subjectAltName=${HUB_NAMES.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      f('hub.csr'),
      '-CA',
      f('ca.crt.new'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '3650',
      '-extfile',
      f('hub.ext'),
      '-out',
      f('hub.crt.new'),
    );
    rmSync(f('hub.csr'), { force: true });
    // The certificate last: its presence means the set is complete.
    renameSync(f('ca.crt.new'), f('ca.crt'));
    renameSync(f('hub.key.new'), f('hub.key'));
    renameSync(f('hub.crt.new'), f('hub.crt'));
  }
  copyFileSync(f('ca.crt'), caCopy);
  chmodSync(caCopy, 0o644);
  return { key: readFileSync(f('hub.key')), cert: readFileSync(f('hub.crt')), caFile: f('ca.crt') };
}
