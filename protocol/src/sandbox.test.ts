import { describe, expect, it } from 'vitest';
import { isSandboxId, SANDBOX_ID } from './sandbox';

// What the runtime's valid_id() (native/src/state.c) accepts and refuses: 1 to 40 bytes, the first [a-z0-9], the rest
// [a-z0-9-]. The server's routes and socket handlers use SANDBOX_ID; the runtime refuses any other id.
const accepted = [
  'a',
  '0',
  'sb-',
  'sb-0123456789ab',
  'sb-abc123-0123456789ab', // as the manager names them: sb-<database>-<random>
  'a--b',
  'a'.repeat(40),
  '9' + '-'.repeat(39),
];
const refused = [
  '', // n == 0
  'a'.repeat(41), // n > 40
  '-a', // first not [a-z0-9]
  'A',
  'sb-ABC',
  'sb_x',
  'sb.x',
  'a/b',
  '../a',
  'a b',
  'a\n',
  '\na',
  'é',
];

describe('SANDBOX_ID', () => {
  it.each(accepted)('accepts %j, as the runtime does', (id) => expect(isSandboxId(id)).toBe(true));
  it.each(refused)('refuses %j, as the runtime does', (id) => expect(isSandboxId(id)).toBe(false));

  it('captures a whole id inside a route pattern', () => {
    const route = new RegExp(`^/api/sandboxes/(${SANDBOX_ID})/files$`);
    expect(route.exec('/api/sandboxes/sb-abc123-0001/files')?.[1]).toBe('sb-abc123-0001');
    expect(route.test(`/api/sandboxes/${'a'.repeat(41)}/files`)).toBe(false);
    expect(route.test('/api/sandboxes/-x/files')).toBe(false);
  });
});
