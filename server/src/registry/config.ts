// The docker-registry (distribution 2.8) configuration of one instance: filesystem storage, a unix socket,
// no access log (the server logs what matters), deletes off. The push and mirror instances share one
// storage; the pull-through instance (`proxy`) has its own, because distribution refuses pushes in proxy
// mode and expires what it cached.
import type { Upstream } from './upstream';

export function registryConfig(opts: {
  storage: string;
  socket: string;
  readonly: boolean;
  secret: string;
  proxy?: Upstream;
}): string {
  const lines = [
    'version: 0.1',
    'log: { level: error, formatter: text, accesslog: { disabled: true } }',
    'storage:',
    `  filesystem: { rootdirectory: ${JSON.stringify(opts.storage)} }`,
    `  maintenance: { uploadpurging: { enabled: false }, readonly: { enabled: ${opts.readonly} } }`,
    // A proxy deletes what its TTL expires; it needs deletes on.
    `  delete: { enabled: ${!!opts.proxy} }`,
    'http:',
    '  net: unix',
    `  addr: ${JSON.stringify(opts.socket)}`,
    `  secret: ${JSON.stringify(opts.secret)}`,
  ];
  if (opts.proxy) {
    lines.push('proxy:', `  remoteurl: ${JSON.stringify(opts.proxy.url)}`);
    if (opts.proxy.username)
      lines.push(
        `  username: ${JSON.stringify(opts.proxy.username)}`,
        `  password: ${JSON.stringify(opts.proxy.password)}`,
      );
  }
  return lines.join('\n') + '\n';
}
