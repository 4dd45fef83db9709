import { describe, expect, it } from 'vitest';
import { DISPLAY_NAME_MAX, displayName } from './displayName';

describe('displayName', () => {
  it('keeps a name, trimmed', () => {
    expect(displayName('  Ana Kim ')).toEqual({ ok: true, name: 'Ana Kim' });
    expect(displayName('김하늘')).toEqual({ ok: true, name: '김하늘' });
    expect(displayName('Zoë 👩\u200d💻')).toEqual({ ok: true, name: 'Zoë 👩\u200d💻' }); // a joiner: one emoji
    expect(displayName('می\u200cخواهم')).toEqual({ ok: true, name: 'می\u200cخواهم' }); // a non-joiner
  });

  it('refuses an empty one', () => {
    for (const s of ['', '   ', '\t\n']) expect(displayName(s)).toEqual({ ok: false, problem: 'must not be empty' });
  });

  it('counts characters, not UTF-16 units', () => {
    expect(displayName('a'.repeat(DISPLAY_NAME_MAX)).ok).toBe(true);
    expect(displayName('😀'.repeat(DISPLAY_NAME_MAX)).ok).toBe(true);
    expect(displayName('a'.repeat(DISPLAY_NAME_MAX + 1))).toEqual({ ok: false, problem: 'at most 40 characters' });
  });

  it('refuses control and formatting characters anywhere inside', () => {
    for (const c of [
      '\u0000',
      '\u0007',
      '\u001b',
      '\u007f',
      '\u0085',
      '\u200b',
      '\u200e',
      '\u202e',
      '\u2066',
      '\ufeff',
    ])
      expect(displayName(`Ana${c}Kim`), JSON.stringify(c)).toEqual({
        ok: false,
        problem: 'no control or formatting characters',
      });
    expect(displayName('Ana\tKim').ok).toBe(false);
  });
});
