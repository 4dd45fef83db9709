import { describe, expect, it } from 'vitest';
import { median } from './stats';

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([5])).toBe(5);
  });

  it('is the mean of the two middle values of an even count', () => {
    expect(median([60, 100])).toBe(80);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('is undefined for no values, and leaves its input as it was', () => {
    expect(median([])).toBeUndefined();
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
});
