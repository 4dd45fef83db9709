import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { pageLocale } from './firstShell';

const req = (headers: Record<string, string>) => ({ url: '/socket.io/', method: 'GET', headers }) as IncomingMessage;

// The first shell's welcome banner is in the page's language, as the web app picks it.
describe('pageLocale', () => {
  it("is the page's language cookie, else the browser's languages", () => {
    expect(pageLocale(req({ cookie: 'a=b; dockside_lang=ko' }))).toBe('ko');
    expect(pageLocale(req({ cookie: 'dockside_lang=en', 'accept-language': 'ko-KR' }))).toBe('en');
    expect(pageLocale(req({ 'accept-language': 'ko-KR,ko;q=0.9' }))).toBe('ko');
    expect(pageLocale(req({ 'accept-language': 'en-US' }))).toBe('en');
    expect(pageLocale(req({ cookie: 'dockside_lang=fr' }))).toBe('en');
  });
});
