/**
 * OrderBus on RabbitMQ (services mode). Topology: rabbitmq-topology.ts; connection healing:
 * rabbitmq-link.ts; the work queue consumers: rabbitmq-work-consumer.ts; the operators' reads and replays:
 * rabbitmq-queue-admin.ts.
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
import { connect, type Channel } from 'amqplib';
import type { OrderBus, Subscription } from '../../core/ports/order-bus.ts';
import type { Alert, OrderMessage, SeckillResult } from '../../core/model.ts';
import { groupResults } from './batches.ts';
import { heartbeatMsOf, openLink, silentLogger, unavailable, type Attachment, type BusLogger, type Link } from './rabbitmq-link.ts';
import { describe, parseBatch, parseJson } from './rabbitmq-messages.ts';
import { queueDepths, replay, take } from './rabbitmq-queue-admin.ts';
import { decodeSalesChanged, decodeStockAgain, salesChangedBody } from './sale-signs.ts';
import {
  assertAlertQueue,
  assertTopology,
  QueueDeclarationConflict,
  RESULT_ROUTING_KEYS,
  topologyNames,
  type QueueType,
  type TopologyNames,
} from './rabbitmq-topology.ts';
import { ORDERS, TIMEOUTS, workConsumer } from './rabbitmq-work-consumer.ts';
import { managementUrlsOf, queueStats, vhostOf } from './rabbitmq-queue-stats.ts';
import { parseAmqpNodes, type AmqpNode } from './rabbitmq-nodes.ts';
import type { AmqpConnect } from './rabbitmq-node-walk.ts';

export type { BusLogger } from './rabbitmq-link.ts';
export type { AmqpConnect } from './rabbitmq-node-walk.ts';
export { QueueDeclarationConflict } from './rabbitmq-topology.ts';

export interface RabbitOrderBusOptions {
  /**
   * amqp://user:pass@host:5672/vhost, or the nodes of one cluster, comma-separated (rabbitmq-nodes.ts): a lost
   * connection moves to another node.
   */
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
  /** Durable queues as classic or quorum queues (rabbitmq-topology.ts). Default classic. */
  queueType?: QueueType;
  /** Quorum work queues: deliveries without an ack before the broker dead-letters. Default 4 × maxAttempts, at least 20. */
  deliveryLimit?: number;
  /** A publish not confirmed by then rejects with UNAVAILABLE. Default 5 s. */
  confirmTimeoutMs?: number;
  /** Rounds of connection attempts over the nodes at start before `createRabbitOrderBus` rejects. Default 5 (about 3 s). */
  connectRetries?: number;
  /**
   * RabbitMQ's management API, asked when the pending queue was last empty (rabbitmq-queue-stats.ts).
   * Default: port 15672 on every AMQP host, same credentials, statistics every 5 s.
   */
  management?: { urls?: readonly string[]; statsIntervalMs?: number };
  /** How every connection to a node is opened. Default amqplib's `connect`. */
  connect?: AmqpConnect;
}

export interface RabbitOrderBus extends OrderBus {
  readonly names: TopologyNames;
  isConnected(): boolean;
  /** `host:port` of the node this bus is connected to, null while it is not. */
  connectedNode(): string | null;
  /** Resolves once connected (at once if connected now). */
  whenConnected(): Promise<void>;
}

export const DEFAULT_PREFETCH = 50;

export async function createRabbitOrderBus(options: RabbitOrderBusOptions): Promise<RabbitOrderBus> {
  const maxAttempts = options.maxAttempts ?? 5;
  const names = topologyNames(options.prefix ?? 'seckill.', options.payTimeoutMs, options.alertQueueMax, {
    type: options.queueType ?? 'classic',
    deliveryLimit: options.deliveryLimit ?? Math.max(20, 4 * maxAttempts),
  });
  let nodes: AmqpNode[];
  try {
    nodes = parseAmqpNodes(options.url);
  } catch (err) {
    throw unavailable(`RabbitMQ URL not usable: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const first = nodes[0]!.url;
  // A queue declared before as another type would fail every (re)connect: refuse at once, naming the queue.
  const open = options.connect ?? connect;
  await checkDeclarations(nodes, names, open);
  const retryBackoff = options.retryBackoff;
  const logger = options.logger ?? silentLogger;
  const link = await openLink({ nodes, names, logger, connectRetries: options.connectRetries ?? 5, ...(options.confirmTimeoutMs ? { confirmTimeoutMs: options.confirmTimeoutMs } : {}), connect: open });

  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const pendingStats = queueStats({
    managementUrls: options.management?.urls ?? managementUrlsOf(nodes.map((n) => n.url)),
    vhost: vhostOf(first),
    queue: names.pendingQueue,
    ...(options.management?.statsIntervalMs !== undefined ? { statsIntervalMs: options.management.statsIntervalMs } : {}),
    heartbeatMs: heartbeatMsOf(first),
    logger,
  });

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
    publishOrders: async (messages, opts) => {
      if (messages.length > 0) await link.publish('', names.pendingQueue, json(messages), { toQueue: true, ...(opts?.sendBy !== undefined ? { sendBy: opts.sendBy } : {}) });
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
      subscribe(broadcastSubscriber(link, names.stockAgainExchange, '', (body) => decodeStockAgain(parseJson(body)), handler, logger)),
    broadcastSalesChanged: async (goods) => {
      if (goods.length > 0) await link.publish(names.stockAgainExchange, '', json(salesChangedBody(goods)));
    },
    subscribeSalesChanged: (handler) =>
      subscribe(broadcastSubscriber(link, names.stockAgainExchange, '', (body) => decodeSalesChanged(parseJson(body)), handler, logger)),
    raiseAlert: (alert) => link.publish('', names.alertQueue, json(alert), { toQueue: true }),
    takeAlerts: (max) => take<Alert>(link, names.alertQueue, max, logger),
    takeDeadOrders: async (max) => (await take(link, names.deadQueue, max, logger, parseBatch<OrderMessage>)).flat(),
    replayDeadOrders: (max) => replay(link, names, max),
    queueDepths: () => queueDepths(link, names),
    pendingDrainedAt: () => pendingStats.drainedAt(),
    isConnected: () => link.isConnected(),
    connectedNode: () => link.node(),
    ping: async () => {
      if (!link.isConnected()) throw unavailable('RabbitMQ is not connected; reconnecting.');
    },
    whenConnected: () => link.whenConnected(),
    close: () => link.close(),
  };
}

/** One anonymous, exclusive, auto-delete queue per subscriber: every process gets every message. */
function broadcastSubscriber<T>(
  link: Link,
  exchange: string,
  pattern: string,
  /** undefined: a message of another kind on the same exchange, passed over. */
  parse: (body: Buffer) => T | undefined,
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
          if (msg === null) { link.recycle(model, `${exchange} subscriber cancelled by the broker`); return; }
          try {
            const message = parse(msg.content);
            if (message !== undefined) handler(message);
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

/**
 * Declares the topology once on a connection of its own, to the first node that answers. A cluster that
 * cannot be reached is left to the link's reconnects; a queue that exists with other arguments (another type)
 * rejects with QueueDeclarationConflict, which no reconnect can cure.
 */
async function checkDeclarations(nodes: readonly AmqpNode[], names: TopologyNames, open: AmqpConnect): Promise<void> {
  let model;
  for (const node of nodes) {
    model = await open(node.url, { timeout: 5000 }).catch(() => undefined);
    if (model) break;
  }
  if (!model) return;
  model.on('error', () => undefined);
  try {
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    await assertTopology(channel, names);
    await assertAlertQueue(model, names);
  } catch (err) {
    if (err instanceof QueueDeclarationConflict) throw err;
  } finally {
    await model.close().catch(() => undefined);
  }
}
