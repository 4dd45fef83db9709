// Two replicas on one bus: a page focusing a step on one makes the other stop running that learner's
// checks; a replica never stops its own.
import { describe, expect, it } from 'vitest';
import { LocalBus } from '../cluster/bus';
import type { Engine } from '../engine/engine';
import { focusRelay } from './focusRelay';

describe('where a learner’s checks run', () => {
  it('on the replica their page focused last: the others are told, and only they', () => {
    const bus = new LocalBus();
    const [a, b] = [0, 1].map(() => {
      const elsewhere: string[] = [];
      const engine = { focusedElsewhere: (id: string) => void elsewhere.push(id) } as unknown as Engine;
      return { focused: focusRelay(bus, engine), elsewhere };
    });
    a!.focused('ana');
    expect(a!.elsewhere).toEqual([]);
    expect(b!.elsewhere).toEqual(['ana']);
    b!.focused('ana');
    b!.focused('ben');
    expect(a!.elsewhere).toEqual(['ana', 'ben']);
    expect(b!.elsewhere).toEqual(['ana']);
  });
});
