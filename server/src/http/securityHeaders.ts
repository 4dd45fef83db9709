// The app's answers tell the browser what a page may do: run only the scripts this server sent (a nonce
// per page; what they load is trusted through 'strict-dynamic': Next.js chunks, Monaco's AMD loader and
// its modules), start workers only from here (Monaco's), connect only here (REST and socket.io), never be
// framed (but /embed, by the sites the operator lists), never be sniffed as another type, and tell other
// sites nothing of where the learner was.
// Previews are another origin and get none of this (the learner's page is theirs to shape); the app
// refuses them instead (origins.ts).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** For every answer of the app's origin. */
export function setAppHeaders(res: ServerResponse): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'same-origin');
  res.setHeader('x-frame-options', 'DENY');
  // Other origins (a preview) may not embed the app's answers, nor keep a handle on its windows.
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
}

/** The one page other sites may frame: the embeddable sandbox, which acts for the learner on its own. */
export const EMBED_PATH = '/embed';

/**
 * The origins that may frame the page at `pathname`: the operator's for /embed, nobody for any other page,
 * so nothing that acts for the learner can be clickjacked outside the embed.
 */
export function framersOf(pathname: string, embedOrigins: readonly string[]): readonly string[] {
  return pathname === EMBED_PATH ? embedOrigins : [];
}

/**
 * The content security policy of a page, for its nonce; dev adds what Next.js' dev server needs; `framers`
 * are the origins that may frame it (none: 'none').
 */
export function pagePolicy(nonce: string, dev: boolean, framers: readonly string[] = []): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ''}`,
    // Monaco, xterm and React set styles on elements and in <style> elements they create.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-src 'none'",
    `frame-ancestors ${framers.length > 0 ? framers.join(' ') : "'none'"}`,
  ].join('; ');
}

/** JSON, CSV and other non-page answers: nothing in them runs or loads anything. */
export const API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * A page's policy, on the answer and on the request: Next.js reads the nonce from the request's
 * Content-Security-Policy header and puts it on the scripts it writes into the page.
 */
export function setPagePolicy(
  req: IncomingMessage,
  res: ServerResponse,
  dev: boolean,
  framers: readonly string[] = [],
): void {
  const policy = pagePolicy(randomBytes(16).toString('base64'), dev, framers);
  // X-Frame-Options can name no origin; frame-ancestors says who may frame an embeddable page instead.
  if (framers.length > 0) res.removeHeader('x-frame-options');
  req.headers['content-security-policy'] = policy;
  res.setHeader('content-security-policy', policy);
}
