// Dockside's own squid configuration: a caching forward proxy on the host's loopback for the sandboxes
// (egress/supervisor.ts relays their socket to it). Only the allowed hosts, only http on 80 and
// CONNECT to 443, nothing local: a learner must not reach the host's services or another sandbox.
import os from 'node:os';

export type SquidPaths = {
  config: string;
  cacheDir: string;
  logDir: string;
  /** Squid's error pages (its English templates) and Dockside's refusals, REFUSALS below. */
  errorDir: string;
};

/** Destinations no sandbox may reach, whatever name resolves there: loopback, private, link-local. */
const LOCAL_NETWORKS = [
  '0.0.0.0/8',
  '127.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '::1',
  'fc00::/7',
  'fe80::/10',
];

/** Every address of this host's interfaces (a public one too: the host's own services listen there). */
export function hostAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .flatMap((i) => (i ? [i.address.replace(/%.*$/, '')] : []));
}

export function squidConfig(opts: { port: number; allow: string[]; paths: SquidPaths; cacheMiB?: number }): string {
  const { paths } = opts;
  return [
    // ignore-cc: apt asks `Cache-Control: max-age=0` even for by-hash indexes, whose content never
    // changes under their name; what stays fresh is decided by the refresh patterns below alone.
    `http_port 127.0.0.1:${opts.port} ignore-cc`,
    'visible_hostname dockside-egress',
    'httpd_suppress_version_string on',
    'via off',
    'forwarded_for delete',
    // Run by the server's user, in the foreground (-N), with everything under <data>/egress/.
    'pid_filename none',
    `cache_log stdio:${paths.logDir}/cache.log`,
    `access_log stdio:${paths.logDir}/access.log squid`,
    'cache_store_log none',
    'logfile_rotate 0',
    `coredump_dir ${paths.cacheDir}`,
    'pinger_enable off',
    'shutdown_lifetime 0 seconds',
    // The cache: .deb files are large and never change under one name; indexes must stay fresh.
    `cache_dir ufs ${paths.cacheDir} ${opts.cacheMiB ?? 4096} 16 256`,
    'cache_mem 64 MB',
    'maximum_object_size 1 GB',
    'maximum_object_size_in_memory 1 MB',
    'cache_replacement_policy heap LFUDA',
    'refresh_pattern -i \\.(deb|udeb|tgz)$ 129600 100% 129600 override-expire override-lastmod',
    'refresh_pattern -i /by-hash/ 129600 100% 129600 override-expire override-lastmod',
    'refresh_pattern -i /dists/ 0 0% 0',
    'refresh_pattern . 0 20% 4320',
    // Who may go where. -n: a request by address is never reverse-resolved into an allowed name.
    `acl allowed dstdomain -n ${opts.allow.join(' ')}`,
    `acl local dst ${[...LOCAL_NETWORKS, ...hostAddresses()].join(' ')}`,
    'acl to_https port 443',
    'acl to_http port 80',
    'acl CONNECT method CONNECT',
    `error_directory ${paths.errorDir}`,
    ...['allowed', 'to_http', 'to_https'].map((acl) => `deny_info ${REFUSALS.notAllowed} ${acl}`),
    `deny_info ${REFUSALS.local} local`,
    'http_access deny manager',
    'http_access deny CONNECT !to_https',
    'http_access deny !CONNECT !to_http',
    'http_access deny !allowed',
    'http_access deny local',
    'http_access allow all',
    'icp_access deny all',
    'htcp_access deny all',
    '',
  ].join('\n');
}

/** The names of Dockside's refusal pages in the error directory. */
export const REFUSALS = { notAllowed: 'ERR_DOCKSIDE_NOT_ALLOWED', local: 'ERR_DOCKSIDE_LOCAL' } as const;

/** What a learner reads when squid refuses (`curl http://example.com`); %U is the URL. */
export function refusalPages(allow: string[]): Record<(typeof REFUSALS)[keyof typeof REFUSALS], string> {
  return {
    [REFUSALS.notAllowed]:
      `Dockside refused %U: this Dockside lets sandboxes reach only ${allow.join(', ')} ` +
      '(http on port 80, https on 443). An administrator can allow more hosts with DOCKSIDE_EGRESS_ALLOW.\n',
    [REFUSALS.local]: 'Dockside refused %U: sandboxes may not reach this machine or private networks.\n',
  };
}
