// The docker-registry (distribution 2.8) configuration of one instance: filesystem storage shared by
// all instances, a unix socket, no access log (the server logs what matters), deletes off.
export function registryConfig(opts: { storage: string; socket: string; readonly: boolean; secret: string }): string {
  return [
    'version: 0.1',
    'log: { level: error, formatter: text, accesslog: { disabled: true } }',
    'storage:',
    `  filesystem: { rootdirectory: ${JSON.stringify(opts.storage)} }`,
    `  maintenance: { uploadpurging: { enabled: false }, readonly: { enabled: ${opts.readonly} } }`,
    '  delete: { enabled: false }',
    'http:',
    '  net: unix',
    `  addr: ${JSON.stringify(opts.socket)}`,
    `  secret: ${JSON.stringify(opts.secret)}`,
    '',
  ].join('\n');
}
