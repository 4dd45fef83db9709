// Which hosts sandboxes may reach through the egress proxy (DOCKSIDE_EGRESS, DOCKSIDE_EGRESS_ALLOW),
// parsed with the rest of the environment in config.ts.
import { z } from 'zod';

/** A host name (not an address); a leading dot also allows its subdomains, as squid's dstdomain does. */
const HOST = /^\.?(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const egressSwitch = z
  .enum(['on', 'off'], { message: 'on or off' })
  .default('on')
  .transform((v) => v === 'on');

export const egressHostList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  )
  .refine(
    (hosts) => hosts.every((h) => HOST.test(h)),
    'host names separated by commas, such as pypi.org,.pythonhosted.org',
  );

/** What every Dockside allows: the Debian mirror (the lesson images' apt source) and the npm registry. */
export function defaultEgressHosts(debianMirror = process.env.DOCKSIDE_DEBIAN_MIRROR): string[] {
  const hosts = ['deb.debian.org', 'registry.npmjs.org'];
  if (debianMirror && URL.canParse(debianMirror)) hosts.push(new URL(debianMirror).hostname.toLowerCase());
  return hosts;
}

/** The allowed hosts, defaults first, each once; null when egress is off. */
export function egressHosts(enabled: boolean, extra: string[] = []): string[] | null {
  return enabled ? [...new Set([...defaultEgressHosts(), ...extra])] : null;
}
