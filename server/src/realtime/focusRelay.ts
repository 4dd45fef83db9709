// Where a learner's checks run: on the replica their page last told which step it looks at. A page that
// moved to another replica (a reload through the balancer, a replica that died) would otherwise leave the
// old one running the old step's checks and reporting their commands too. So a focus here is told to the
// others on the cluster bus, and they stop (engine.focusedElsewhere). One process hears only itself.
import { randomBytes } from 'node:crypto';
import type { ClusterBus } from '../cluster/bus';
import type { Engine } from '../engine/engine';

export const FOCUS_TOPIC = 'learner:focus';

/** Returns what to call when a learner's page focused a step on this replica. */
export function focusRelay(bus: ClusterBus, engine: Engine): (learnerId: string) => void {
  const here = randomBytes(6).toString('hex');
  bus.subscribe(FOCUS_TOPIC, (p) => {
    const { learnerId, at } = (p ?? {}) as { learnerId?: unknown; at?: unknown };
    if (typeof learnerId === 'string' && at !== here) engine.focusedElsewhere(learnerId);
  });
  return (learnerId) => bus.publish(FOCUS_TOPIC, { learnerId, at: here });
}
