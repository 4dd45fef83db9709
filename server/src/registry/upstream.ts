// The registry upstream of a connected site (DOCKSIDE_REGISTRY_UPSTREAM): validated here, once, and
// probed when a pull through it fails, so the learner reads whether it could be reached at all.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import { ConfigError } from '../config';

export type Upstream = { url: string; username?: string; password?: string };

const UpstreamEnv = z
  .object({
    DOCKSIDE_REGISTRY_UPSTREAM: z
      .string()
      .refine(
        (v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) && /^https?:\/\/[^/?#\s@]+\/?$/i.test(v),
        'a registry URL such as https://registry-1.docker.io (http or https, no path, no credentials)',
      )
      .optional(),
    DOCKSIDE_REGISTRY_UPSTREAM_USERNAME: z.string().optional(),
    DOCKSIDE_REGISTRY_UPSTREAM_PASSWORD: z.string().optional(),
  })
  .refine((e) => !!e.DOCKSIDE_REGISTRY_UPSTREAM_USERNAME === !!e.DOCKSIDE_REGISTRY_UPSTREAM_PASSWORD, {
    message: 'both a username and a password, or neither',
    path: ['DOCKSIDE_REGISTRY_UPSTREAM_PASSWORD'],
  })
  .refine((e) => !e.DOCKSIDE_REGISTRY_UPSTREAM_USERNAME || e.DOCKSIDE_REGISTRY_UPSTREAM, {
    message: 'DOCKSIDE_REGISTRY_UPSTREAM set too (credentials without an upstream)',
    path: ['DOCKSIDE_REGISTRY_UPSTREAM_USERNAME'],
  });

/** A ConfigError: the server stops at start with its one line. */
export class UpstreamConfigError extends ConfigError {}

/** The upstream the environment names, or null; throws UpstreamConfigError with one line for a bad value. */
export function upstreamFromEnv(env: Record<string, string | undefined> = process.env): Upstream | null {
  const blankless = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k.startsWith('DOCKSIDE_REGISTRY_UPSTREAM') && v !== undefined && v !== ''),
  );
  const parsed = UpstreamEnv.safeParse(blankless);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    // A password is never echoed.
    const shown = name.endsWith('_PASSWORD') ? '' : `=${JSON.stringify(env[name] ?? '')}`;
    throw new UpstreamConfigError(`${name}${shown} is invalid: expected ${issue.message}`);
  }
  const e = parsed.data;
  if (!e.DOCKSIDE_REGISTRY_UPSTREAM) return null;
  return {
    url: new URL(e.DOCKSIDE_REGISTRY_UPSTREAM).origin,
    ...(e.DOCKSIDE_REGISTRY_UPSTREAM_USERNAME
      ? { username: e.DOCKSIDE_REGISTRY_UPSTREAM_USERNAME, password: e.DOCKSIDE_REGISTRY_UPSTREAM_PASSWORD }
      : {}),
  };
}

/**
 * Why the upstream cannot be reached (refused, timed out, a TLS error, a 5xx), or null when its `/v2/`
 * answers at all (200 or a 401 asking for a token: both mean it is there).
 */
export function upstreamUnreachable(upstream: Upstream, timeoutMs = 3000): Promise<string | null> {
  const url = new URL('/v2/', upstream.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    // A connection of its own: a pooled one left from before says nothing about the upstream now. Trust
    // is the cache's business (docker-registry reads the system's CAs, node does not): this asks only
    // whether anything answers, and sends nothing.
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false, rejectUnauthorized: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 500 ? `it answered ${status}` : null);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve(
        err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'unknown host' : err.message,
      ),
    );
    req.end();
  });
}
