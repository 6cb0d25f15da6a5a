/**
 * A work queue consumer on RabbitMQ (the pending orders, the due pay timeouts): at-least-once, acked after
 * its handler resolved; failures on the message itself retried through a confirmed republish with
 * `x-attempt` + 1 and dead-lettered after `maxAttempts`; outages (UNAVAILABLE) retried after a growing
 * wait without counting an attempt (retry-policy.ts).
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Delivery, Handler, Subscription } from '../../core/ports/order-bus.ts';
import type { Attachment, BusLogger, Link } from './rabbitmq-link.ts';
import { describe, parseBatch } from './rabbitmq-messages.ts';
import type { TopologyNames } from './rabbitmq-topology.ts';
import { createBackoff, isInfrastructureFailure } from './retry-policy.ts';
import { createLogThrottle } from '../../shared/log-throttle.ts';

const ATTEMPT_HEADER = 'x-attempt';
const LAST_ERROR_HEADER = 'x-last-error';
/** On a copy republished after an outage (quorum queues): it was delivered before, though the broker's flag says not. */
const RETRIED_HEADER = 'x-retried';

/** A work queue with its dead-letter queue: the pending orders, and the due pay timeouts. */
export interface WorkQueue {
  what: string;
  queue: (names: TopologyNames) => string;
  dead: (names: TopologyNames) => string;
}
export const ORDERS: WorkQueue = { what: 'order', queue: (n) => n.pendingQueue, dead: (n) => n.deadQueue };
export const TIMEOUTS: WorkQueue = { what: 'timeout', queue: (n) => n.timeoutQueue, dead: (n) => n.timeoutDeadQueue };

export function workConsumer<T>(
  link: Link,
  names: TopologyNames,
  work: WorkQueue,
  handler: Handler<T[]>,
  opts: { prefetch: number; maxAttempts: number; logger: BusLogger; retryBackoff?: { firstMs?: number; maxMs?: number } },
): Subscription & Attachment {
  const { logger, maxAttempts } = opts;
  const backoff = createBackoff(opts.retryBackoff);
  // Every message in hand meets the same outage: one line per 5 s says so, with how many it stood for.
  const outageLog = createLogThrottle(5000);
  let closed = false;
  let live: { channel: Channel; consumerTag: string } | null = null;
  const inHand = new Set<Promise<void>>();

  async function handle(channel: Channel, msg: ConsumeMessage): Promise<void> {
    const attempt = attemptOf(msg);
    let message: T[];
    try {
      message = parseBatch<T>(msg.content);
    } catch (err) {
      return retryOrDeadLetter(channel, msg, maxAttempts, err); // unreadable: no attempt can help
    }
    // A republished retry is a new AMQP message, so its redelivered flag is false; it was delivered before all the same.
    const delivery: Delivery = { attempt, redelivered: msg.fields.redelivered || attempt > 1 || msg.properties.headers?.[RETRIED_HEADER] === true };
    try {
      await handler(message, delivery);
    } catch (err) {
      if (isInfrastructureFailure(err)) return retryLater(channel, msg, attempt, err);
      return retryOrDeadLetter(channel, msg, attempt, err);
    }
    backoff.reset();
    ackQuietly(channel, msg);
  }

  /**
   * Held while the dependency is down (this also slows the consumer down), then back to the broker as it was.
   * A quorum queue counts a requeue as a delivery toward its x-delivery-limit, so there the message goes back
   * as a confirmed copy (same headers, same attempt) and the original is acked: an outage never counts.
   */
  async function retryLater(channel: Channel, msg: ConsumeMessage, attempt: number, err: unknown): Promise<void> {
    const waitMs = backoff.next();
    const { log, repeats } = outageLog.take(describe(err));
    if (log) {
      logger.warn(
        { attempt, waitMs, err: describe(err), ...(repeats ? { sameOutageUnlogged: repeats } : {}) },
        `${work.what} handler hit an outage; retrying after a wait (not counted as an attempt)`,
      );
    }
    await new Promise((r) => setTimeout(r, waitMs));
    if (names.queueType === 'quorum') {
      try {
        await link.publish('', work.queue(names), msg.content, { headers: { ...msg.properties.headers, [RETRIED_HEADER]: true }, toQueue: true });
        ackQuietly(channel, msg);
        return;
      } catch {
        // Not republished: requeue it (counted by the broker, far below its limit for a short outage).
      }
    }
    try {
      channel.nack(msg, false, true);
    } catch {
      // The channel went with its connection: the broker redelivers anyway.
    }
  }

  async function retryOrDeadLetter(channel: Channel, msg: ConsumeMessage, attempt: number, err: unknown): Promise<void> {
    const dead = attempt >= maxAttempts;
    const headers = { ...msg.properties.headers, [ATTEMPT_HEADER]: dead ? attempt : attempt + 1, [LAST_ERROR_HEADER]: describe(err) };
    try {
      await link.publish('', dead ? work.dead(names) : work.queue(names), msg.content, { headers, toQueue: true });
    } catch (publishErr) {
      // Not republished: leave it to the broker, which hands it out again (same attempt).
      logger.warn({ err: describe(publishErr), attempt }, 'order retry could not be published; requeueing');
      try {
        channel.nack(msg, false, true);
      } catch {
        // The channel went with its connection: the broker redelivers anyway.
      }
      return;
    }
    if (dead) logger.error({ attempt, err: describe(err), content: msg.content.toString('utf8').slice(0, 500) }, 'order message dead-lettered');
    else logger.warn({ attempt, err: describe(err) }, 'order handler failed; retrying');
    ackQuietly(channel, msg);
  }

  function onMessage(model: ChannelModel, channel: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      link.recycle(model, 'order consumer cancelled by the broker');
      return;
    }
    const work: Promise<void> = handle(channel, msg)
      .catch((err: unknown) => logger.error({ err: describe(err) }, 'order delivery failed'))
      .finally(() => inHand.delete(work));
    inHand.add(work);
  }

  const subscription: Subscription & Attachment = {
    async attach(model) {
      const channel = await link.openChannel(model, 'order consumer');
      await channel.prefetch(opts.prefetch);
      const { consumerTag } = await channel.consume(work.queue(names), (msg) => onMessage(model, channel, msg), { noAck: false });
      live = { channel, consumerTag };
      if (closed) await link.closeChannel(channel);
    },
    async close() {
      if (closed) return;
      closed = true;
      link.attachments.delete(subscription);
      const current = live;
      if (current) await current.channel.cancel(current.consumerTag).catch(() => undefined);
      while (inHand.size > 0) await Promise.allSettled([...inHand]);
      if (current) await link.closeChannel(current.channel);
    },
  };
  return subscription;
}

function ackQuietly(channel: Channel, msg: ConsumeMessage): void {
  try {
    channel.ack(msg);
  } catch {
    // The channel went with its connection: the broker hands the message out again (at-least-once).
  }
}

function attemptOf(msg: ConsumeMessage): number {
  const value: unknown = msg.properties.headers?.[ATTEMPT_HEADER];
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : 1;
}
