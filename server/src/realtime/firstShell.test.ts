import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { lessonPageOf, pageLocale } from './firstShell';

const req = (url: string, headers: Record<string, string>, method = 'GET') =>
  ({ url, method, headers }) as unknown as IncomingMessage;
const navigation = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };

// Only a browser opening a lesson page starts a sandbox before the page's socket asks.
describe('lessonPageOf', () => {
  it("is the lesson of a browser's navigation to its page", () => {
    expect(lessonPageOf(req('/lessons/Docker_Intro', navigation))).toBe('Docker_Intro');
    expect(lessonPageOf(req('/lessons/Docker_Intro?step=run', navigation))).toBe('Docker_Intro');
  });
  it('is null for a fetch, an image, a frame, a prefetch, another method or another page', () => {
    expect(lessonPageOf(req('/lessons/Docker_Intro', {}))).toBeNull();
    expect(
      lessonPageOf(req('/lessons/Docker_Intro', { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' })),
    ).toBeNull();
    expect(
      lessonPageOf(req('/lessons/Docker_Intro', { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' })),
    ).toBeNull();
    expect(
      lessonPageOf(req('/lessons/Docker_Intro', { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' })),
    ).toBeNull();
    expect(lessonPageOf(req('/lessons/Docker_Intro', navigation, 'POST'))).toBeNull();
    expect(lessonPageOf(req('/lessons/Docker_Intro/files', navigation))).toBeNull();
    expect(lessonPageOf(req('/catalogue', navigation))).toBeNull();
    expect(lessonPageOf(req('/lessons/..%2F..', navigation))).toBeNull();
  });
});

describe('pageLocale', () => {
  it("is the page's language cookie, else the browser's languages", () => {
    expect(pageLocale(req('/', { cookie: 'a=b; dockside_lang=ko' }))).toBe('ko');
    expect(pageLocale(req('/', { 'accept-language': 'ko-KR,ko;q=0.9' }))).toBe('ko');
    expect(pageLocale(req('/', { 'accept-language': 'en-US' }))).toBe('en');
  });
});
