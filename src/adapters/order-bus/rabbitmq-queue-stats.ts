/**
 * When the pending queue was last known to hold no order message at all, from RabbitMQ's management API.
 *
 * AMQP itself cannot say: a passive declare counts only the messages waiting, not those delivered to a
 * worker and not yet acknowledged, and those are exactly the ones a worker cut off from the broker (or
 * frozen) holds. The management API reports both (`messages` = ready + unacknowledged).
 *
 * Two things make a reading older than the moment it is taken:
 * - the queue reports its figures every `statsIntervalMs` (RabbitMQ's `collect_statistics_interval`), and
 *   a broker that was frozen may first answer with figures from before; so an empty reading counts only once
 *   the queue has read empty for a whole interval, and then for the moment one interval before the reading;
 * - a publish frame can still be on its way from a publisher when the queue reads empty: it arrives at the
 *   latest when the broker gives up on that publisher's connection (two missed heartbeats), so that much is
 *   taken off too.
 */
import type { BusLogger } from './rabbitmq-logger.ts';

export interface QueueStatsOptions {
  /** Management API bases, tried in turn: http://user:pass@host:15672 */
  managementUrls: readonly string[];
  vhost: string;
  queue: string;
  /** RabbitMQ's collect_statistics_interval. Default 5 s (RabbitMQ's default). */
  statsIntervalMs?: number;
  /** The AMQP heartbeat publishers use, in ms. */
  heartbeatMs: number;
  /** Deadline of one request to the management API. Default 2 s. */
  requestTimeoutMs?: number;
  logger: BusLogger;
  now?: () => number;
}

export interface QueueStats {
  /** See OrderBus.pendingDrainedAt. */
  drainedAt(): Promise<number | null>;
}

export function queueStats(opts: QueueStatsOptions): QueueStats {
  const now = opts.now ?? Date.now;
  const intervalMs = opts.statsIntervalMs ?? 5000;
  const inFlightMs = 2 * opts.heartbeatMs;
  let emptySince: number | null = null;
  let drained: number | null = null;
  let warned = false;
  // The node that answered last is asked first: a dead node of a cluster costs one refused (or timed-out)
  // request once, not on every reading.
  let first = 0;

  async function messagesNow(): Promise<number | null> {
    const count = opts.managementUrls.length;
    for (let i = 0; i < count; i++) {
      const index = (first + i) % count;
      const base = opts.managementUrls[index]!;
      const u = new URL(base);
      const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
      const url = `${u.protocol}//${u.host}/api/queues/${encodeURIComponent(opts.vhost)}/${encodeURIComponent(opts.queue)}?columns=messages`;
      try {
        const res = await fetch(url, { headers: { authorization: `Basic ${auth}` }, signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 2000) });
        if (!res.ok) continue;
        const body = (await res.json()) as { messages?: unknown };
        // A queue that has not reported its figures yet has no `messages`: unknown, not empty.
        if (typeof body.messages === 'number') {
          first = index;
          return body.messages;
        }
      } catch {
        /* the next node may answer */
      }
    }
    if (!warned) {
      warned = true;
      opts.logger.warn(
        { queue: opts.queue, managementUrls: opts.managementUrls.map((b) => new URL(b).host) },
        'RabbitMQ management API not answering: reservations without a result are kept until it does (enable rabbitmq_management, or set AMQP_MANAGEMENT_URL)',
      );
    }
    return null;
  }

  return {
    async drainedAt() {
      const askedAt = now();
      const messages = await messagesNow();
      if (messages === null) {
        // The next answer may be figures from before a freeze: the empty run starts over.
        emptySince = null;
        return drained; // a moment once known stays true
      }
      warned = false;
      if (messages > 0) {
        emptySince = null;
        return drained;
      }
      emptySince ??= askedAt;
      if (askedAt - emptySince >= intervalMs) drained = Math.max(drained ?? 0, askedAt - intervalMs - inFlightMs);
      return drained;
    },
  };
}

/** The management API's address for each AMQP node: same host and credentials, port 15672. */
export function managementUrlsOf(amqpUrls: readonly string[]): string[] {
  return amqpUrls.map((raw) => {
    const u = new URL(raw);
    const user = u.username || 'guest';
    const pass = u.password || 'guest';
    return `http://${user}:${pass}@${u.hostname.includes(':') && !u.hostname.startsWith('[') ? `[${u.hostname}]` : u.hostname}:15672`;
  });
}

/** The vhost an AMQP URL names ('/' when it names none). */
export function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname;
  return path.length > 1 ? decodeURIComponent(path.slice(1)) : '/';
}
