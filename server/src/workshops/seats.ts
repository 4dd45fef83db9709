// The seat policy the engine starts sandboxes by (engine.ts `SeatPolicy`): a learner's sandbox belongs
// to their latest open workshop, counted against its seats, else it is self-paced.
import type { Db } from '../db/client';
import type { SeatPolicy } from '../engine/engine';

export function workshopSeats(db: Db): SeatPolicy {
  return {
    async workshopOf(learnerId) {
      const enrollment = await db.enrollment.findFirst({
        where: { learnerId, workshop: { state: 'open' } },
        orderBy: { joinedAt: 'desc' },
      });
      return enrollment?.workshopId ?? null;
    },
    async seatLimit(workshopId) {
      return (await db.workshop.findUnique({ where: { id: workshopId } }))?.seatLimit ?? null;
    },
  };
}
