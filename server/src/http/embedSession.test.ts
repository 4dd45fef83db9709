import { describe, expect, it } from 'vitest';
import { EmbedHandoff } from './embedSession';

const LEARNER = 'learner_0123456789abcdef';

describe('EmbedHandoff', () => {
  it('a token names its learner once, within a minute, and only as this server signed it', () => {
    let now = 1_000_000;
    const handoff = new EmbedHandoff('s'.repeat(32), () => now);
    const token = handoff.issue(LEARNER);
    expect(handoff.redeem(token)).toBe(LEARNER);
    expect(handoff.redeem(token)).toBeNull(); // used

    const late = handoff.issue(LEARNER);
    now += 60_000;
    expect(handoff.redeem(late)).toBeNull(); // expired

    const other = new EmbedHandoff('t'.repeat(32), () => now).issue(LEARNER);
    expect(handoff.redeem(other)).toBeNull(); // another server's secret
    const [, exp, nonce, mac] = handoff.issue(LEARNER).split('.');
    expect(handoff.redeem(`someone_else_0123456.${exp}.${nonce}.${mac}`)).toBeNull();
    expect(handoff.redeem('not.a.token')).toBeNull();
  });
});
