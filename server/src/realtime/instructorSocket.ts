// The instructor namespace: a live dashboard per workshop and read-only terminal mirrors. Every request
// is checked against the workshop's owner; learners cannot connect here at all. Requests are validated
// and answered as the learner's are (requests.ts).
//
// With several replicas, what the dashboard is built from happens on any of them: a learner's checks and
// commands on the replica holding the learner's socket, a join wherever the request landed. Each such
// fact is published once on the cluster bus (dashboardRelay.ts); every replica records it and pushes
// fresh snapshots to its own watchers only (`nsp.local`), so no dashboard hears one twice. A mirror
// attaches to the learner's terminal sessions in the sandbox from this replica: no bytes between replicas.
import type { Namespace, Server } from 'socket.io';
import { z } from 'zod';
import type { InstructorClientToServerEvents, InstructorServerToClientEvents } from '@dockside/protocol';
import type { ClusterBus } from '../cluster/bus';
import type { Engine } from '../engine/engine';
import type { Viewer } from '../engine/terminals';
import type { InstructorAccounts } from '../workshops/accounts';
import type { DashboardData } from '../workshops/dashboard';
import type { Workshops } from '../workshops/workshops';
import { DashboardRelay } from './dashboardRelay';
import { handleRequests, isFailure, parse, RequestError } from './requests';
import type { InstructorSocketData } from './events';

type Nsp = Namespace<
  InstructorClientToServerEvents,
  InstructorServerToClientEvents,
  Record<string, never>,
  InstructorSocketData
>;

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const WatchReq = z.object({ workshopId: Id });
const MirrorReq = z.object({ workshopId: Id, learnerId: Id });
const CloseReq = z.object({ learnerId: Id });
const PUSH_INTERVAL_MS = 100;
/** How often an open mirror looks for the learner's new terminals (a reset, another tab). */
const MIRROR_FOLLOW_MS = 1000;
const SESSION_RECHECK_MS = 60_000;
const ENROLLMENT_TTL_MS = 5000;

export const workshopRoom = (workshopId: string) => `workshop:${workshopId}`;

type Deps = {
  engine: Engine;
  instructors: InstructorAccounts;
  workshops: Workshops;
  dashboard: DashboardData;
  bus: ClusterBus;
  /** Told when the bus listens again after a drop (what it carried meanwhile was lost). */
  busReconnected?: (listener: () => void) => void;
};

export type InstructorRealtime = {
  /** Something about this workshop changed (a join, doors opened, ended): every replica's watchers hear. */
  workshopChanged: (workshopId: string) => void;
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function attachInstructorRealtime(io: Server<any, any, any, any>, deps: Deps): InstructorRealtime {
  const nsp: Nsp = io.of('/instructor');
  nsp.use((socket, next) => {
    void deps.instructors.fromCookieHeader(socket.request.headers.cookie).then(
      (who) => {
        if (!who) return next(new Error('unauthorized: sign in as an instructor'));
        socket.data.instructorId = who.id;
        next();
      },
      () => next(new Error('unauthorized')),
    );
  });

  // Pushes are throttled per workshop, and only built when someone watches: the first change in a quiet
  // room goes out at once, a busy room gets at most one snapshot per interval (with everything so far).
  const pending = new Map<string, NodeJS.Timeout>();
  const lastPush = new Map<string, number>();
  const push = (workshopId: string) => {
    if (pending.has(workshopId) || !nsp.adapter.rooms.get(workshopRoom(workshopId))?.size) return;
    const wait = Math.max(0, (lastPush.get(workshopId) ?? 0) + PUSH_INTERVAL_MS - Date.now());
    pending.set(
      workshopId,
      setTimeout(() => {
        pending.delete(workshopId);
        lastPush.set(workshopId, Date.now());
        void deps.dashboard
          .snapshot(workshopId)
          .then((s) => nsp.local.to(workshopRoom(workshopId)).emit('dashboard:update', s))
          .catch((err: unknown) => console.error(`dashboard ${workshopId}: ${(err as Error).message}`));
      }, wait),
    );
  };

  // Which workshops a learner is in, cached briefly: engine events are frequent.
  const enrolled = new Map<string, { at: number; ids: Promise<string[]> }>();
  const workshopsOf = (learnerId: string): Promise<string[]> => {
    const hit = enrolled.get(learnerId);
    if (hit && Date.now() - hit.at < ENROLLMENT_TTL_MS) return hit.ids;
    const ids = deps.workshops.workshopsOf(learnerId);
    enrolled.set(learnerId, { at: Date.now(), ids });
    return ids;
  };
  const learnerChanged = (learnerId: string | null | undefined) => {
    if (learnerId) void workshopsOf(learnerId).then((ids) => ids.forEach(push));
  };

  // This replica's own engine counts: only its own watchers are concerned.
  deps.dashboard.onEngineRefreshed((sandboxId) => learnerChanged(deps.engine.ownerOf(sandboxId)));
  const relay = new DashboardRelay(deps.bus, deps.engine, {
    learner: (fact) => {
      if (fact.checks) deps.dashboard.recordChecks(fact.learnerId, fact.checks);
      if (fact.sandboxId && fact.command) deps.dashboard.recordCommand(fact.sandboxId, fact.command);
      if (fact.sandboxId && (fact.command || fact.engine)) deps.dashboard.forgetEngine(fact.sandboxId);
      learnerChanged(fact.learnerId);
    },
    workshop: (workshopId) => {
      enrolled.clear(); // a join changes who is in which workshop
      push(workshopId);
    },
  });
  // Facts lost while the bus was down: every dashboard watched here gets a fresh snapshot.
  deps.busReconnected?.(() => {
    enrolled.clear();
    for (const room of nsp.adapter.rooms.keys())
      if (room.startsWith(workshopRoom(''))) push(room.slice(workshopRoom('').length));
  });

  nsp.on('connection', (socket) => {
    // learnerId → the terminals watched, and the timer that follows new ones.
    const mirrors = new Map<string, { viewers: Map<string, Viewer>; follow?: NodeJS.Timeout }>();
    // The session is checked again on every request, and now and then while idle: signing out (or the
    // session expiring) ends what this connection may see.
    const who = async () => {
      const found = await deps.instructors.fromCookieHeader(socket.request.headers.cookie);
      if (!found || found.id !== socket.data.instructorId)
        throw new RequestError('signed_out', 'your instructor session has ended; sign in again');
      return found;
    };
    const recheck = setInterval(() => {
      void who().catch(() => socket.disconnect(true));
    }, SESSION_RECHECK_MS);

    const closeMirror = (learnerId: string) => {
      const m = mirrors.get(learnerId);
      if (!m) return;
      clearInterval(m.follow);
      for (const [terminalId, viewer] of m.viewers) deps.engine.detach(terminalId, viewer);
      mirrors.delete(learnerId);
    };

    /** Attaches to the learner's terminals not watched yet and lets go of those that are gone. */
    const sync = async (learnerId: string, viewers: Map<string, Viewer>) => {
      const now = await deps.engine.terminalsOf(learnerId);
      const removed = [...viewers.keys()].filter((id) => !now.some((t) => t.id === id));
      for (const id of removed) {
        deps.engine.detach(id, viewers.get(id)!);
        viewers.delete(id);
      }
      const added = now
        .filter((t) => !viewers.has(t.id))
        .map((t) => {
          const viewer: Viewer = {
            readOnly: true,
            send: (data) => socket.emit('mirror:output', { terminalId: t.id, data }),
            exit: () => {},
          };
          viewers.set(t.id, viewer);
          return { terminalId: t.id, scrollback: t.attach(viewer) };
        });
      return { added, removed };
    };

    handleRequests<keyof InstructorClientToServerEvents>(socket, {
      'dashboard:watch': async (req) => {
        const body = parse(WatchReq, req);
        if (isFailure(body)) return body;
        await deps.workshops.owned(await who(), body.workshopId);
        await socket.join(workshopRoom(body.workshopId));
        return { ok: true, value: await deps.dashboard.snapshot(body.workshopId) };
      },

      'mirror:open': async (req) => {
        const body = parse(MirrorReq, req);
        if (isFailure(body)) return body;
        const { workshopId, learnerId } = body;
        await deps.workshops.enrolled(await who(), workshopId, learnerId);
        if (socket.disconnected) return undefined; // gone while we checked: nothing to attach for
        closeMirror(learnerId);
        const viewers = new Map<string, Viewer>();
        const mirror: { viewers: Map<string, Viewer>; follow?: NodeJS.Timeout } = { viewers };
        mirrors.set(learnerId, mirror);
        // Closed (or opened again) while terminals were being attached: let go of what this one took.
        const stale = () => {
          if (mirrors.get(learnerId) === mirror) return false;
          for (const [terminalId, viewer] of viewers) deps.engine.detach(terminalId, viewer);
          return true;
        };
        const { added } = await sync(learnerId, viewers);
        if (stale()) return undefined;
        let syncing = false;
        mirror.follow = setInterval(() => {
          if (syncing) return;
          syncing = true;
          void sync(learnerId, viewers)
            .then((change) => {
              if (stale()) return;
              if (change.added.length || change.removed.length)
                socket.emit('mirror:terminals', { learnerId, ...change });
            })
            .catch((err: unknown) => console.error(`mirror of ${learnerId}: ${(err as Error).message}`))
            .finally(() => (syncing = false));
        }, MIRROR_FOLLOW_MS);
        return { ok: true, value: { terminals: added } };
      },

      'mirror:close': (req) => {
        const body = parse(CloseReq, req);
        if (isFailure(body)) return body;
        closeMirror(body.learnerId);
        return undefined;
      },
    });

    socket.on('disconnect', () => {
      clearInterval(recheck);
      for (const learnerId of [...mirrors.keys()]) closeMirror(learnerId);
    });
  });

  return { workshopChanged: (workshopId) => relay.workshopChanged(workshopId) };
}
