// Which origin a request is for, and whether a browser request comes from the app's own pages.
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../config';
import { Origins } from './origins';

function req(headers: Record<string, string>): IncomingMessage {
  const r = new IncomingMessage(new Socket());
  r.headers = headers;
  return r;
}

const local = new Origins(parseEnv({ PORT: '3000' }).previewOrigin, null);

describe('origins', () => {
  it('serves each preview on its own host under *.preview.localhost by default', () => {
    expect(local.previewUrl('sb-abc123-0001', 8080)).toBe('http://8080-sb-abc123-0001.preview.localhost:3000/');
    expect(local.previewTarget(req({ host: '8080-sb-abc123-0001.preview.localhost:3000' }))).toEqual({
      sandboxId: 'sb-abc123-0001',
      port: 8080,
    });
    expect(local.previewTarget(req({ host: '8080-SB-ABC123-0001.Preview.Localhost' }))).toEqual({
      sandboxId: 'sb-abc123-0001',
      port: 8080,
    });
    // Under the suffix but naming no preview; not under it at all (the app).
    expect(local.previewTarget(req({ host: 'www.preview.localhost:3000' }))).toBeNull();
    expect(local.previewTarget(req({ host: '99999-sb.preview.localhost:3000' }))).toBeNull();
    expect(local.previewTarget(req({ host: 'a.8080-sb.preview.localhost:3000' }))).toBeNull();
    expect(local.previewTarget(req({ host: 'localhost:3000' }))).toBeUndefined();
    expect(local.previewTarget(req({ host: '127.0.0.1:3000' }))).toBeUndefined();
    expect(local.previewTarget(req({ host: 'preview.localhost:3000' }))).toBeUndefined();
    expect(local.previewTarget(req({}))).toBeUndefined();
  });

  it('serves previews where DOCKSIDE_PREVIEW_ORIGIN says, behind TLS on the default port', () => {
    const o = new Origins(
      parseEnv({ DOCKSIDE_PREVIEW_ORIGIN: 'https://*.preview.example.org' }).previewOrigin,
      'https://dockside.example.org',
    );
    expect(o.previewUrl('sb-x', 80)).toBe('https://80-sb-x.preview.example.org/');
    expect(o.previewSecure).toBe(true);
    expect(o.previewTarget(req({ host: '80-sb-x.preview.example.org' }))).toEqual({ sandboxId: 'sb-x', port: 80 });
    expect(o.previewTarget(req({ host: 'dockside.example.org' }))).toBeUndefined();
  });

  it('takes a request with no Origin, or its own, as the app’s; another site’s or a preview’s is not', () => {
    const host = { host: '127.0.0.1:3000' };
    expect(local.sameOrigin(req(host))).toBe(true);
    expect(local.sameOrigin(req({ ...host, origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-origin' }))).toBe(
      true,
    );
    expect(local.sameOrigin(req({ ...host, origin: 'http://evil.example' }))).toBe(false);
    expect(local.sameOrigin(req({ ...host, origin: 'http://8080-sb-x.preview.localhost:3000' }))).toBe(false);
    expect(local.sameOrigin(req({ ...host, origin: 'null' }))).toBe(false);
    expect(local.sameOrigin(req({ ...host, 'sec-fetch-site': 'same-site' }))).toBe(false);
    expect(local.sameOrigin(req({ ...host, 'sec-fetch-site': 'cross-site' }))).toBe(false);
  });

  it('hands out links at the configured origin, or the request’s own behind a TLS proxy', () => {
    expect(local.appOrigin(req({ host: '192.168.1.20:3000' }))).toBe('http://192.168.1.20:3000');
    expect(local.appOrigin(req({ host: 'dockside.example.org', 'x-forwarded-proto': 'https' }))).toBe(
      'https://dockside.example.org',
    );
    const o = new Origins(parseEnv({}).previewOrigin, 'https://dockside.example.org');
    expect(o.appOrigin(req({ host: '127.0.0.1:3000' }))).toBe('https://dockside.example.org');
  });

  it('takes only the configured origin when DOCKSIDE_PUBLIC_URL is set, whatever the Host says', () => {
    const o = new Origins(parseEnv({}).previewOrigin, 'https://dockside.example.org');
    expect(o.sameOrigin(req({ host: 'dockside.example.org', origin: 'https://dockside.example.org' }))).toBe(true);
    expect(o.sameOrigin(req({ host: 'evil.example', origin: 'https://evil.example' }))).toBe(false);
    expect(o.sameOrigin(req({ host: 'dockside.example.org', origin: 'http://dockside.example.org' }))).toBe(false);
  });
});
