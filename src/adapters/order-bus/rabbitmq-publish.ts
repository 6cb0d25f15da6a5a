/**
 * Confirmed publishing over a connection that may be replaced midway (rabbitmq-link.ts).
 *
 * A publish resolves only on the broker's confirm (a QUEUED answer at the api means exactly that). What it
 * rejects with tells the caller what the broker may hold:
 * - UNAVAILABLE without details: certain that no copy was taken (not connected, a resource alarm, no queue
 *   took it, or its send-by moment passed before it was written). The api gives the units back.
 * - UNAVAILABLE with `details.unconfirmed: true`: a copy went out and may be on the queue. The api keeps the
 *   units; the worker or the reconciler decides them.
 *
 * A connection that dies between the write and the confirm leaves the message unknown: the broker may have
 * queued it (the confirm was lost with the socket) or not (the frames were lost). Rather than answering
 * "unknown" to every buyer of such a batch, the message is written again on the next connection (another
 * node of the cluster, or the same node back) and the publish resolves on that copy's confirm, all within
 * the caller's one deadline (AMQP_CONFIRM_TIMEOUT_MS from the first write). A second copy is harmless:
 * every consumer is idempotent by request id. A copy is never written after the caller's `sendBy`
 * (the reconciler relies on it to decide reservations whose batch never came); a re-publish that would be
 * late is given up as `unconfirmed`, since the first copy did go out.
 *
 * A broker nack is handled the same way, on a fresh channel. RabbitMQ "refuses responsibility" for a nacked
 * message, which is not the same as "it is not on the queue", so it is not taken as a certain refusal. And a
 * channel that first published to a quorum queue while the queue was electing a leader (a node just died)
 * went on nacking every publish for as long as it was watched (15 s, RabbitMQ 3.10); a new channel finds
 * the new leader.
 */
import type { ConfirmChannel, Options } from 'amqplib';
import { SeckillError } from '../../core/errors.ts';
import type { BusLogger } from './rabbitmq-logger.ts';

export interface PublishSession {
  /** Replaced by a fresh channel after a nack (Sessions.renew). */
  pub: ConfirmChannel;
  /** messageIds of mandatory publishes the broker returned as unroutable (the return precedes the ack). */
  readonly returned: Set<string>;
  /** Set while the socket buffer is full: publishes wait for 'drain' (or the channel's end). */
  drained: Promise<void> | null;
  blocked: boolean;
  /** Its publish channel has closed: no confirm outstanding on it will come. */
  lost: boolean;
}

export interface Sessions {
  /** The session to publish on now, or a prompt UNAVAILABLE: nothing is sent. */
  usable(): PublishSession;
  /** The next session able to take a copy (its publish channel renewed, if that was under way), or null at `deadlineAt` or when the link closes. */
  next(deadlineAt: number): Promise<PublishSession | null>;
  /** Replace the session's publish channel (it nacked `pub`); once at a time, and not more often than every 200 ms. */
  renew(s: PublishSession, pub: ConfirmChannel): void;
}

export interface PublishOptions {
  headers?: Record<string, unknown>;
  toQueue?: boolean;
  /** Not written to the socket after this moment (epoch ms): rejects UNAVAILABLE, not sent. */
  sendBy?: number;
}

export type Publish = (exchange: string, routingKey: string, body: Buffer, opts?: PublishOptions) => Promise<void>;

export const unavailable = (message: string, cause?: unknown): SeckillError =>
  new SeckillError('UNAVAILABLE', message, cause === undefined ? {} : { cause });

const unconfirmed = (message: string): SeckillError => new SeckillError('UNAVAILABLE', message, { details: { unconfirmed: true } });

/** How one write ended: confirmed, or not and the broker may hold it or not (its channel ended, or a nack). */
type Outcome = 'confirmed' | 'lost';

export function confirmedPublisher(sessions: Sessions, confirmTimeoutMs: number, logger: BusLogger): Publish {
  let messageSeq = 0;
  // Re-publishes are counted and told in one line per failover, not one per message.
  const republished = { confirmed: 0, givenUp: 0, timer: null as NodeJS.Timeout | null };
  function count(outcome: 'confirmed' | 'givenUp'): void {
    republished[outcome]++;
    republished.timer ??= setTimeout(() => {
      logger.warn(
        { confirmed: republished.confirmed, givenUp: republished.givenUp },
        'rabbitmq: messages not confirmed (connection lost, or a nack) were published again (given up: answered UNAVAILABLE, unconfirmed)',
      );
      republished.confirmed = republished.givenUp = 0;
      republished.timer = null;
    }, 1000);
    republished.timer.unref();
  }

  /** One copy on `s`. `again`: an earlier copy went out, so one this channel refuses to write is "lost" too. */
  function write(s: PublishSession, exchange: string, routingKey: string, body: Buffer, props: Options.Publish, deadlineAt: number, again: boolean): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      // No confirm in time (a stalled broker, a dead socket not yet noticed): the broker may still take it.
      const deadline = setTimeout(() => reject(unconfirmed('RabbitMQ did not confirm the message in time.')), Math.max(0, deadlineAt - Date.now()));
      const pub = s.pub;
      const confirmed = (err: unknown): void => {
        clearTimeout(deadline);
        if (err instanceof Error && err.message === 'message nacked') sessions.renew(s, pub);
        if (err) resolve('lost');
        else if (props.messageId && s.returned.delete(props.messageId)) reject(unavailable(`No queue took the message (${routingKey}).`));
        else resolve('confirmed');
      };
      try {
        const writable = pub.publish(exchange, routingKey, body, props, confirmed);
        if (!writable && !s.drained) s.drained = waitForDrain(s);
      } catch (err) {
        // The channel refused the write (it has just closed): this copy was not sent.
        clearTimeout(deadline);
        if (again) resolve('lost');
        else reject(unavailable('RabbitMQ publish failed.', err));
      }
    });
  }

  /** Persistent, JSON, confirmed. `toQueue` publishes are mandatory: an unroutable message rejects. */
  return async function publish(exchange, routingKey, body, o = {}) {
    let s = sessions.usable();
    while (s.drained) {
      await s.drained;
      s = sessions.usable();
    }
    const late = () => o.sendBy !== undefined && Date.now() > o.sendBy;
    // Checked in the same turn as the write below: a frame that goes out is never later than this.
    if (late()) throw unavailable('The message was not sent in time; nothing of it was published.');
    const messageId = o.toQueue ? `m${++messageSeq}` : undefined;
    const props: Options.Publish = { persistent: true, contentType: 'application/json', mandatory: o.toQueue === true };
    if (messageId) props.messageId = messageId;
    if (o.headers) props.headers = o.headers;
    const deadlineAt = Date.now() + confirmTimeoutMs;

    if ((await write(s, exchange, routingKey, body, props, deadlineAt, false)) === 'confirmed') return;
    // From here on a copy went out: every failure is "unconfirmed".
    for (;;) {
      if (Date.now() >= deadlineAt) {
        count('givenUp');
        throw unconfirmed('RabbitMQ did not confirm the message in time.');
      }
      const next = await sessions.next(deadlineAt);
      if (!next || next.blocked) {
        count('givenUp');
        throw unconfirmed('RabbitMQ did not confirm the message (connection lost, or a nack), and no new copy was confirmed in time.');
      }
      if (next.drained) {
        await until(next.drained, deadlineAt);
        continue;
      }
      // The same check as before the first write, in the same turn as this one.
      if (late()) {
        count('givenUp');
        throw unconfirmed('RabbitMQ did not confirm the message (connection lost, or a nack), and its time to be sent had passed.');
      }
      let outcome: Outcome;
      try {
        outcome = await write(next, exchange, routingKey, body, props, deadlineAt, true);
      } catch (err) {
        count('givenUp');
        throw unconfirmed(err instanceof Error ? err.message : String(err));
      }
      if (outcome === 'confirmed') {
        count('confirmed');
        return;
      }
      // A channel that refuses writes without being marked lost yet must not make this a busy loop.
      await until(new Promise<void>(() => undefined), Math.min(deadlineAt, Date.now() + 20));
    }
  };
}

function waitForDrain(s: PublishSession): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      s.pub.off('drain', done);
      s.pub.off('close', done);
      s.drained = null;
      resolve();
    };
    s.pub.on('drain', done);
    s.pub.on('close', done);
  });
}

/** `promise`, or `deadlineAt` if that comes first. */
export async function until(promise: Promise<void>, deadlineAt: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadlineAt - Date.now()))))]);
  } finally {
    clearTimeout(timer);
  }
}
