import { describe, expect, it } from 'vitest';
import { exerciseReducer, initialExerciseState, type ExerciseAction } from './exerciseState';
import { clock } from './useCountdown';

const run = (...actions: ExerciseAction[]) => actions.reduce(exerciseReducer, initialExerciseState);
const progress = (percent: number) => ({
  type: 'progress' as const,
  progress: { lessonId: 'L', exerciseId: 'x', percent, message: { en: `at ${percent}`, ko: `${percent}` } },
});

describe('an exercise’s starting state on the page', () => {
  it('waits for a sandbox, shows progress that only climbs, then is ready', () => {
    expect(run().phase).toEqual({ kind: 'waiting' });
    const s = run({ type: 'sandbox', sandboxId: 'sb' }, { type: 'start' }, progress(50), progress(20));
    expect(s.phase).toEqual({ kind: 'preparing', percent: 50, message: { en: 'at 20', ko: '20' } });
    expect(exerciseReducer(s, { type: 'ready' }).phase).toEqual({ kind: 'ready' });
  });

  it('a late progress push does not take a ready exercise back to preparing', () => {
    const s = run({ type: 'sandbox', sandboxId: 'sb' }, { type: 'start' }, { type: 'ready' }, progress(100));
    expect(s.phase).toEqual({ kind: 'ready' });
  });

  it('a new sandbox (a reset, or one that ended) is prepared again', () => {
    const s = run({ type: 'sandbox', sandboxId: 'sb' }, { type: 'start' }, { type: 'ready' });
    expect(exerciseReducer(s, { type: 'sandbox', sandboxId: 'sb2' }).phase).toEqual({ kind: 'waiting' });
    expect(exerciseReducer(s, { type: 'sandbox', sandboxId: 'sb' })).toBe(s);
  });

  it('starting over asks for a reset once; a retry after a failure does not', () => {
    const ready = run({ type: 'sandbox', sandboxId: 'sb' }, { type: 'start' }, { type: 'ready' });
    const over = exerciseReducer(ready, { type: 'again', reset: true });
    expect(over).toMatchObject({ phase: { kind: 'waiting' }, reset: true, attempts: 1 });
    expect(exerciseReducer(exerciseReducer(over, { type: 'start' }), { type: 'ready' }).reset).toBe(false);
    const failed = exerciseReducer(ready, { type: 'failed', message: 'no' });
    expect(failed.phase).toEqual({ kind: 'failed', message: 'no' });
    expect(exerciseReducer(failed, { type: 'again', reset: false })).toMatchObject({ reset: false, attempts: 1 });
  });

  it('shows a time budget as m:ss, or h:mm:ss past an hour', () => {
    expect(clock(600)).toBe('10:00');
    expect(clock(59)).toBe('0:59');
    expect(clock(3725)).toBe('1:02:05');
  });
});
