// Two replicas' relays on one bus: each fact about a learner reaches both once, whichever replica's engine
// produced it; bursts go as one message; checks too wide for a NOTIFY go with shorter hints.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChecksResult } from '@dockside/protocol';
import { LocalBus, type ClusterBus } from '../cluster/bus';
import { BusPayloadError, MAX_NOTIFY_BYTES } from '../cluster/postgresBus';
import type { Engine, EngineEvent } from '../engine/engine';
import { DashboardRelay, LEARNER_TOPIC, type LearnerFact } from './dashboardRelay';

function fakeEngine(owners: Record<string, string>) {
  const listeners = new Set<(e: EngineEvent) => void>();
  return {
    engine: {
      subscribe: (l: (e: EngineEvent) => void) => (listeners.add(l), () => listeners.delete(l)),
      ownerOf: (id: string) => owners[id],
    } as unknown as Engine,
    emit: (e: EngineEvent) => listeners.forEach((l) => l(e)),
  };
}

/** A bus that refuses what a PostgreSQL NOTIFY could not carry, as PostgresBus does. */
class LimitedBus extends LocalBus {
  override publish(topic: string, payload: unknown): void {
    const bytes = Buffer.byteLength(JSON.stringify({ o: 'origin', t: topic, p: payload }));
    if (bytes > MAX_NOTIFY_BYTES) throw new BusPayloadError(`${bytes} bytes`);
    super.publish(topic, payload);
  }
}

function replicas(bus: ClusterBus, owners: Record<string, string>) {
  return ['a', 'b'].map((name) => {
    const { engine, emit } = fakeEngine(owners);
    const heard: LearnerFact[] = [];
    const workshops: string[] = [];
    const relay = new DashboardRelay(bus, engine, {
      learner: (f) => heard.push(f),
      workshop: (id) => workshops.push(id),
    });
    return { name, emit, heard, workshops, relay };
  });
}

const checks = (hint: string): ChecksResult => ({
  lessonId: 'Docker_Intro',
  stepId: 'your-engine',
  stepStatus: 'working',
  results: [
    { id: 'ran', status: 'passed' },
    { id: 'image', status: 'failed', hint: { en: hint, ko: hint } },
  ],
});

describe('the dashboard relay across replicas', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("gives both replicas a learner's checks and command once, whichever replica produced them", () => {
    const [a, b] = replicas(new LocalBus(), { 'sb-1': 'ana' });
    a!.emit({ type: 'checks', learnerId: 'ana', result: checks('build it first') });
    b!.emit({ type: 'command', sandboxId: 'sb-1', command: { commandLine: 'docker ps', exitCode: 0 } });
    for (const r of [a!, b!])
      expect(r.heard).toEqual([
        { learnerId: 'ana', checks: checks('build it first') },
        { learnerId: 'ana', sandboxId: 'sb-1', command: { commandLine: 'docker ps', exitCode: 0 } },
      ]);
  });

  it("sends a build's burst of engine events and a start's progress as one message each", () => {
    const bus = new LocalBus();
    const sent = vi.spyOn(bus, 'publish');
    const [a, b] = replicas(bus, { 'sb-1': 'ana' });
    for (let i = 0; i < 30; i++) a!.emit({ type: 'engine', sandboxId: 'sb-1' });
    for (let i = 0; i < 10; i++)
      a!.emit({
        type: 'sandbox',
        learnerId: 'ana',
        event: { type: 'progress', phase: 'starting-engine', percent: i * 10, message: '' },
      } as EngineEvent);
    expect(b!.heard).toEqual([]);
    vi.advanceTimersByTime(300);
    expect(sent.mock.calls.filter(([topic]) => topic === LEARNER_TOPIC)).toHaveLength(2);
    expect(b!.heard).toEqual([{ learnerId: 'ana' }, { learnerId: 'ana', sandboxId: 'sb-1', engine: true }]);
    // A warm sandbox has no learner: nobody's dashboard changed.
    a!.emit({ type: 'engine', sandboxId: 'sb-warm' });
    vi.advanceTimersByTime(300);
    expect(b!.heard).toHaveLength(2);
  });

  it("tells every replica's watchers that a workshop changed", () => {
    const [a, b] = replicas(new LocalBus(), {});
    a!.relay.workshopChanged('w1');
    expect(a!.workshops).toEqual(['w1']);
    expect(b!.workshops).toEqual(['w1']);
  });

  it('sends checks too wide for a NOTIFY with shorter hints, and a long command line cut', () => {
    const [a, b] = replicas(new LimitedBus(), { 'sb-1': 'ana' });
    a!.emit({ type: 'checks', learnerId: 'ana', result: checks('x'.repeat(5000)) });
    const fact = b!.heard[0]!;
    expect(fact.checks?.results[1]).toMatchObject({ id: 'image', status: 'failed' });
    const failed = fact.checks!.results[1] as { hint: { en: string } };
    expect(failed.hint.en).toBe('x'.repeat(300));
    a!.emit({ type: 'command', sandboxId: 'sb-1', command: { commandLine: 'y'.repeat(20_000), exitCode: 1 } });
    expect(b!.heard[1]!.command!.commandLine).toHaveLength(1000);
  });
});
