// Which origin a request is for. The app has one origin; each port preview has its own,
// <port>-<sandbox>.<suffix>, so that a learner's web server shares nothing with the app in the browser:
// not its cookies, storage or service workers, nor the right to read its answers.
import type { IncomingMessage } from 'node:http';
import { SANDBOX_ID } from '@dockside/protocol';
import type { PreviewOrigin } from '../config';

export type PreviewTarget = { sandboxId: string; port: number };

const LABEL = new RegExp(`^(\\d{1,5})-(${SANDBOX_ID})$`);

/** The host name of a Host header (no port, lower case), or null when it is not one. */
export function hostName(host: string | undefined): string | null {
  if (!host) return null;
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return null;
  }
}

export class Origins {
  constructor(
    private readonly preview: PreviewOrigin,
    /** The app's configured origin; null when it is whatever Host a request names. */
    readonly app: string | null,
  ) {}

  /** The preview a request's Host names; null for a preview host that names none; undefined for the app. */
  previewTarget(req: IncomingMessage): PreviewTarget | null | undefined {
    const name = hostName(req.headers.host);
    const tail = `.${this.preview.suffix}`;
    if (!name?.endsWith(tail)) return undefined;
    const m = LABEL.exec(name.slice(0, -tail.length));
    if (!m) return null;
    const port = Number(m[1]);
    if (port < 1 || port > 65535) return null;
    return { sandboxId: m[2]!, port };
  }

  /** The preview's address (without a capability: opened alone, it asks for one). */
  previewUrl = (sandboxId: string, port: number): string => {
    const { scheme, suffix, port: listen } = this.preview;
    return new URL(`${scheme}://${port}-${sandboxId}.${suffix}${listen === null ? '' : `:${listen}`}/`).toString();
  };

  /** The app's origin for links it hands out (join links, QR codes): configured, or the request's own. */
  appOrigin(req: IncomingMessage): string {
    if (this.app) return this.app;
    const proto =
      String(req.headers['x-forwarded-proto'] ?? '')
        .split(',')[0]!
        .trim() === 'https'
        ? 'https'
        : 'http';
    return `${proto}://${req.headers.host ?? 'localhost'}`;
  }

  /** Whether previews are served over TLS (their cookie is then Secure). */
  get previewSecure(): boolean {
    return this.preview.scheme === 'https';
  }

  /**
   * Whether a browser request comes from the app's own pages. A browser names the page's origin in
   * `Origin` on every cross-origin request and websocket, and says how it relates in `Sec-Fetch-Site`; a
   * request with neither is a same-origin GET or not a browser's, and cannot carry another site's intent.
   */
  sameOrigin(req: IncomingMessage): boolean {
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') return false;
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (this.app) return origin === this.app;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === req.headers.host?.toLowerCase();
  }
}
