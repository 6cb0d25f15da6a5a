/**
 * OrderBus on RabbitMQ (services mode). Topology: see rabbitmq-topology.ts; connection healing: see
 * rabbitmq-link.ts.
 *
 * Order delivery is at-least-once: a message is acked only after its handler resolved. A handler that
 * rejects gets the message again through a confirmed republish carrying `x-attempt` + 1 (then the original
 * is acked); after `maxAttempts` the message goes to the dead-letter queue instead. A rejection for an
 * infrastructure failure (UNAVAILABLE: the database down …) is not an attempt: the message is held for a
 * growing wait, then handed back to the broker unchanged (see retry-policy.ts). A connection lost with
 * handlers in hand simply lets the broker hand those messages out again.
 *
 * `close()` drops the connection at once, like a crashed process: messages in hand go back to the queue.
 * For a graceful stop, close the subscriptions first (they wait for the handlers in hand).
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type {
  Alert,
  Delivery,
  Handler,
  OrderBus,
  OrderMessage,
  SeckillResult,
  Subscription,
} from '../../core/ports.ts';
import { asBatch, groupResults } from './batches.ts';
import { createBackoff, isInfrastructureFailure } from './retry-policy.ts';
import { openLink, silentLogger, unavailable, type Attachment, type BusLogger, type Link } from './rabbitmq-link.ts';
import { RESULT_ROUTING_KEYS, topologyNames, type TopologyNames } from './rabbitmq-topology.ts';

export type { BusLogger } from './rabbitmq-link.ts';

export interface RabbitOrderBusOptions {
  /** amqp://user:pass@host:5672/vhost */
  url: string;
  /** Prepended to every queue and exchange name (test isolation, several sales on one vhost). Default `seckill.` */
  prefix?: string;
  /** The pay timeout: a SUCCESS result reaches `consumeTimeouts` this long after it is published. Default 15 min. */
  payTimeoutMs?: number;
  /** Deliveries of one order message before it is dead-lettered. Default 5. */
  maxAttempts?: number;
  logger?: BusLogger;
  /** Alerts kept at most (the oldest dropped), for an alert queue this bus creates. Default 10,000. */
  alertQueueMax?: number;
  /** Waits between retries after infrastructure failures. Default 200 ms growing to 10 s. */
  retryBackoff?: { firstMs?: number; maxMs?: number };
  /** A publish not confirmed by then rejects with UNAVAILABLE. Default 5 s. */
  confirmTimeoutMs?: number;
  /** Connection attempts at start before `createRabbitOrderBus` rejects. Default 5 (about 3 s). */
  connectRetries?: number;
}

export interface RabbitOrderBus extends OrderBus {
  readonly names: TopologyNames;
  isConnected(): boolean;
  /** Resolves once connected (at once if connected now). */
  whenConnected(): Promise<void>;
  /** Test hook: destroy the socket as a broker crash would, and refuse to reconnect for `outageMs`. */
  simulateConnectionLoss(opts?: { outageMs?: number }): void;
}

export const DEFAULT_PREFETCH = 50;
const ATTEMPT_HEADER = 'x-attempt';
const LAST_ERROR_HEADER = 'x-last-error';

export async function createRabbitOrderBus(options: RabbitOrderBusOptions): Promise<RabbitOrderBus> {
  const names = topologyNames(options.prefix ?? 'seckill.', options.payTimeoutMs, options.alertQueueMax);
  const maxAttempts = options.maxAttempts ?? 5;
  const retryBackoff = options.retryBackoff;
  const logger = options.logger ?? silentLogger;
  const link = await openLink({ url: options.url, names, logger, connectRetries: options.connectRetries ?? 5, ...(options.confirmTimeoutMs ? { confirmTimeoutMs: options.confirmTimeoutMs } : {}) });

  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

  async function subscribe<T extends Subscription & Attachment>(subscription: T): Promise<T> {
    const model = link.model();
    link.attachments.add(subscription);
    try {
      await subscription.attach(model);
    } catch (err) {
      // A reconnect may have attached it meanwhile: close, not just forget.
      await subscription.close().catch(() => undefined);
      throw unavailable('Could not subscribe on RabbitMQ.', err);
    }
    return subscription;
  }

  return {
    names,
    publishOrders: async (messages) => {
      if (messages.length > 0) await link.publish('', names.pendingQueue, json(messages), { toQueue: true });
    },
    consumeOrders: (handler, opts) =>
      subscribe(workConsumer(link, names, ORDERS, handler, { prefetch: opts?.prefetch ?? DEFAULT_PREFETCH, maxAttempts, logger, retryBackoff })),
    consumeTimeouts: (handler, opts) =>
      subscribe(workConsumer(link, names, TIMEOUTS, handler, { prefetch: opts?.prefetch ?? DEFAULT_PREFETCH, maxAttempts, logger, retryBackoff })),
    publishResults: async (results) => {
      await Promise.all(
        [...groupResults(results)].map(([status, group]) =>
          link.publish(names.resultExchange, status === 'SUCCESS' ? RESULT_ROUTING_KEYS.SUCCESS : RESULT_ROUTING_KEYS.FAIL, json(group)),
        ),
      );
    },
    subscribeResults: (handler) =>
      subscribe(broadcastSubscriber(link, names.resultExchange, RESULT_ROUTING_KEYS.ALL, parseBatch<SeckillResult>, handler, logger)),
    broadcastStockAgain: async (seckillGoodIds) => {
      if (seckillGoodIds.length > 0) await link.publish(names.stockAgainExchange, '', json(seckillGoodIds));
    },
    subscribeStockAgain: (handler) =>
      subscribe(broadcastSubscriber(link, names.stockAgainExchange, '', parseGoodIds, handler, logger)),
    raiseAlert: (alert) => link.publish('', names.alertQueue, json(alert), { toQueue: true }),
    takeAlerts: (max) => take<Alert>(link, names.alertQueue, max, logger),
    takeDeadOrders: async (max) => (await take(link, names.deadQueue, max, logger, parseBatch<OrderMessage>)).flat(),
    replayDeadOrders: (max) => replay(link, names, max),
    isConnected: () => link.isConnected(),
    ping: async () => {
      if (!link.isConnected()) throw unavailable('RabbitMQ is not connected; reconnecting.');
    },
    whenConnected: () => link.whenConnected(),
    simulateConnectionLoss: (opts) => link.simulateConnectionLoss(opts?.outageMs ?? 0),
    close: () => link.close(),
  };
}

/** A work queue with its dead-letter queue: the pending orders, and the due pay timeouts. */
interface WorkQueue {
  what: string;
  queue: (names: TopologyNames) => string;
  dead: (names: TopologyNames) => string;
}
const ORDERS: WorkQueue = { what: 'order', queue: (n) => n.pendingQueue, dead: (n) => n.deadQueue };
const TIMEOUTS: WorkQueue = { what: 'timeout', queue: (n) => n.timeoutQueue, dead: (n) => n.timeoutDeadQueue };

function workConsumer<T>(
  link: Link,
  names: TopologyNames,
  work: WorkQueue,
  handler: Handler<T[]>,
  opts: { prefetch: number; maxAttempts: number; logger: BusLogger; retryBackoff?: { firstMs?: number; maxMs?: number } },
): Subscription & Attachment {
  const { logger, maxAttempts } = opts;
  const backoff = createBackoff(opts.retryBackoff);
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
    const delivery: Delivery = { attempt, redelivered: msg.fields.redelivered || attempt > 1 };
    try {
      await handler(message, delivery);
    } catch (err) {
      if (isInfrastructureFailure(err)) return retryLater(channel, msg, attempt, err);
      return retryOrDeadLetter(channel, msg, attempt, err);
    }
    backoff.reset();
    ackQuietly(channel, msg);
  }

  /** Held while the dependency is down (this also slows the consumer down), then back to the broker as it was. */
  async function retryLater(channel: Channel, msg: ConsumeMessage, attempt: number, err: unknown): Promise<void> {
    const waitMs = backoff.next();
    logger.warn({ attempt, waitMs, err: describe(err) }, `${work.what} handler hit an outage; retrying after a wait (not counted as an attempt)`);
    await new Promise((r) => setTimeout(r, waitMs));
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

/** One anonymous, exclusive, auto-delete queue per subscriber: every process gets every message. */
function broadcastSubscriber<T>(
  link: Link,
  exchange: string,
  pattern: string,
  parse: (body: Buffer) => T,
  handler: (message: T) => void,
  logger: BusLogger,
): Subscription & Attachment {
  let closed = false;
  let live: Channel | null = null;
  const subscription: Subscription & Attachment = {
    async attach(model) {
      const channel = await link.openChannel(model, `${exchange} subscriber`);
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      await channel.bindQueue(queue, exchange, pattern);
      await channel.consume(
        queue,
        (msg) => {
          if (msg === null) return link.recycle(model, `${exchange} subscriber cancelled by the broker`);
          try {
            handler(parse(msg.content));
          } catch (err) {
            logger.error({ exchange, err: describe(err) }, 'subscriber handler threw');
          }
        },
        { noAck: true },
      );
      live = channel;
      if (closed) await link.closeChannel(channel);
    },
    async close() {
      if (closed) return;
      closed = true;
      link.attachments.delete(subscription);
      if (live) await link.closeChannel(live);
    },
  };
  return subscription;
}

/** basic.get up to `max` messages, then ack them all; unreadable ones are logged and dropped. */
async function take<T>(link: Link, queue: string, max: number, logger: BusLogger, parse: (body: Buffer) => T = parseJson<T>): Promise<T[]> {
  const channel = await link.openChannel(link.model(), `take from ${queue}`);
  try {
    const out: T[] = [];
    let last: Awaited<ReturnType<Channel['get']>> = false;
    for (let i = 0; i < max; i++) {
      const msg = await channel.get(queue, { noAck: false });
      if (!msg) break;
      last = msg;
      try {
        out.push(parse(msg.content));
      } catch (err) {
        logger.error({ queue, content: msg.content.toString('utf8').slice(0, 500), err: describe(err) }, 'unreadable message dropped');
      }
    }
    if (last) channel.ack(last, true);
    return out;
  } finally {
    // close waits for close-ok, so the ack above has reached the broker when this returns
    await link.closeChannel(channel);
  }
}

/** Dead order batches back to the pending queue, each acked (removed) only after its copy is confirmed. */
async function replay(link: Link, names: TopologyNames, max: number): Promise<number> {
  const channel = await link.openChannel(link.model(), 'replay dead orders');
  let orders = 0;
  try {
    for (let i = 0; i < max; i++) {
      const msg = await channel.get(names.deadQueue, { noAck: false });
      if (!msg) break;
      let count = 0;
      try {
        count = parseBatch<unknown>(msg.content).length;
      } catch {
        // Unreadable: it stays dead (the broker takes it back when this channel closes).
        continue;
      }
      await link.publish('', names.pendingQueue, msg.content, { toQueue: true });
      channel.ack(msg);
      orders += count;
    }
    return orders;
  } finally {
    // Close waits for close-ok: the acks above have reached the broker; anything unacked goes back to the dead queue.
    await link.closeChannel(channel);
  }
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

function parseJson<T>(body: Buffer): T {
  return JSON.parse(body.toString('utf8')) as T;
}

function parseBatch<T>(body: Buffer): T[] {
  return asBatch<T>(parseJson(body));
}

function parseGoodIds(body: Buffer): number[] {
  const ids = parseBatch<unknown>(body);
  if (!ids.every((id): id is number => typeof id === 'number' && Number.isSafeInteger(id))) {
    throw new Error(`not good ids: ${body.toString('utf8').slice(0, 50)}`);
  }
  return ids;
}

function describe(err: unknown): string {
  return (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 500);
}
