import { describe, expect, it } from 'vitest';
import { lessonOfPath } from './earlySocket';

// The early socket asks for the sandbox of the lesson in the page's address, and only on a lesson page.
describe('lessonOfPath', () => {
  it("is the lesson of a lesson page's address", () => {
    expect(lessonOfPath('/lessons/Docker_Intro')).toBe('Docker_Intro');
    expect(lessonOfPath('/lessons/Docker_Intro/')).toBe('Docker_Intro');
    expect(lessonOfPath('/lessons/caf%C3%A9')).toBe('café');
  });
  it('is null elsewhere and for an address that does not decode', () => {
    expect(lessonOfPath('/')).toBeNull();
    expect(lessonOfPath('/lessons')).toBeNull();
    expect(lessonOfPath('/lessons/a/b')).toBeNull();
    expect(lessonOfPath('/embed')).toBeNull();
    expect(lessonOfPath('/lessons/%E0%A4%A')).toBeNull();
  });
});
