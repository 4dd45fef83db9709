// Who may cost the machine something, and how often. A page view or a cookie costs nothing: the learner's
// row is written on their first real action (a sandbox, a step's progress, a name), and new self-paced
// learners, sandbox starts and resets are budgeted per client address. Workshop learners are counted by
// their workshop's seats instead, so a class behind one NAT can start together. The manager applies
// the rest of the one seat policy (capacity.ts `admit`) where starts are claimed.
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Db } from '../db/client';
import { DocksideError } from '../errors';
import { SharedTokenBucket } from '../workshops/rateLimit';

export type AdmissionOptions = {
  /** Self-paced sandboxes at once from one address (the queue counts too). */
  sandboxesPerAddress: number;
  /** Sandbox starts and resets per hour: per address when self-paced, per learner in a workshop. */
  startsPerHour: number;
  /** New self-paced learners per address and hour (joining a workshop counts against its seats). */
  newLearnersPerHour: number;
  /** Reverse proxies in front that append to X-Forwarded-For; 0 trusts no header. */
  trustedProxies: number;
};

export const DEFAULT_ADMISSION: AdmissionOptions = {
  sandboxesPerAddress: 5,
  startsPerHour: 20,
  newLearnersPerHour: 60,
  trustedProxies: 0,
};

/** Who is asking: their address as the limits count it. */
export type Client = { address: string };

/** A refusal by a limit: 429 with Retry-After over HTTP, an error ack with `retryAfter` on socket.io. */
export class AdmissionError extends DocksideError {
  constructor(code: 'rate_limited' | 'address_limit', message: string, retryAfter: number) {
    super(429, code, message, { retryAfter });
  }
}

const HOUR = 3600_000;
const waitText = (s: number) => (s < 120 ? `${s} s` : `${Math.ceil(s / 60)} min`);

export class Admission {
  /** In the database, so the budgets hold across replicas. */
  private readonly starts: SharedTokenBucket;
  private readonly newLearners: SharedTokenBucket;
  /** Learners known to have a row: most requests need no database read to know it. */
  private known = new Set<string>();

  constructor(
    private readonly db: Db,
    readonly opts: AdmissionOptions = DEFAULT_ADMISSION,
    now: () => number = Date.now,
  ) {
    this.starts = new SharedTokenBucket(db, 'sandbox-starts', opts.startsPerHour, HOUR, now);
    this.newLearners = new SharedTokenBucket(db, 'new-learners', opts.newLearnersPerHour, HOUR, now);
  }

  /**
   * The address limits count: the connection's own, or with trusted proxies the one the outermost of
   * them saw (X-Forwarded-For's entries right to left, the connection being the last proxy). IPv6
   * addresses count by their /64, which one subscriber usually has whole.
   */
  clientAddress(req: IncomingMessage): string {
    const remote = req.socket.remoteAddress ?? 'unknown';
    let address = remote;
    if (this.opts.trustedProxies > 0) {
      const header = req.headers['x-forwarded-for'];
      const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean);
      const chain = [...hops, remote];
      address = chain[Math.max(0, chain.length - 1 - this.opts.trustedProxies)]!;
    }
    return addressKey(address);
  }

  client(req: IncomingMessage): Client {
    return { address: this.clientAddress(req) };
  }

  /**
   * Makes sure the learner has a row, on their first real action. A new self-paced learner is counted
   * against their address; `joining` is a workshop join, which its seats limit instead.
   */
  async learner(learnerId: string, client: Client | null, joining = false): Promise<void> {
    if (this.known.has(learnerId)) return;
    if (await this.db.learner.findUnique({ where: { id: learnerId }, select: { id: true } })) {
      this.remember(learnerId);
      return;
    }
    if (client && !joining) {
      const wait = await this.newLearners.take(`address:${client.address}`);
      if (wait)
        throw new AdmissionError(
          'rate_limited',
          `too many new learners from your network; try again in ${waitText(wait)}`,
          wait,
        );
    }
    try {
      await this.db.learner.create({ data: { id: learnerId } });
    } catch (err) {
      // The same learner's other first action won the race: the row is there.
      if (!(await this.db.learner.findUnique({ where: { id: learnerId }, select: { id: true } }))) throw err;
    }
    this.remember(learnerId);
  }

  private remember(learnerId: string): void {
    if (this.known.size >= 100_000) this.known.clear();
    this.known.add(learnerId);
  }

  /**
   * The budget a start is charged to: the learner's in a workshop, the address's when self-paced, none for
   * an instructor's reset. Charging throws AdmissionError when it is spent; the manager charges only
   * when a start really happens (not for a learner who already has a sandbox, or is starting or queued).
   */
  startCharge(learnerId: string, workshopId: string | null, client: Client | null): (() => Promise<void>) | undefined {
    if (!client) return undefined;
    const key = workshopId ? `learner:${learnerId}` : `address:${client.address}`;
    return async () => {
      const wait = await this.starts.take(key);
      if (wait)
        throw new AdmissionError(
          'rate_limited',
          workshopId
            ? `you started or reset your sandbox too often; try again in ${waitText(wait)}`
            : `too many sandboxes started or reset from your network; try again in ${waitText(wait)}`,
          wait,
        );
    };
  }
}

/** An address as limits count it: IPv4 (also when IPv4-mapped), IPv6 by /64, anything else as it is. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address.slice(0, 100);
  const [head, tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
