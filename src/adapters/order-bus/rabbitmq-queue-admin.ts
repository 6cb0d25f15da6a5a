/**
 * What operators do on the bus's durable queues (the admin api): read their depths, take alerts and dead
 * order batches off them, replay dead orders. Each runs on a short-lived channel of its own.
 */
import type { Channel } from 'amqplib';
import type { QueueDepths } from '../../core/ports/order-bus.ts';
import { unavailable, type BusLogger, type Link } from './rabbitmq-link.ts';
import { describe, parseBatch, parseJson } from './rabbitmq-messages.ts';
import type { TopologyNames } from './rabbitmq-topology.ts';

/**
 * Ready messages per durable queue, from passive declares. On a channel of its own that the link does not
 * watch: a queue missing (deleted by an operator) closes only this channel, never the connection.
 */
export async function queueDepths(link: Link, names: TopologyNames): Promise<QueueDepths> {
  const channel = await link.model().createChannel();
  channel.on('error', () => undefined);
  try {
    const count = async (queue: string) => (await channel.checkQueue(queue)).messageCount;
    return {
      pendingOrders: await count(names.pendingQueue),
      deadOrders: await count(names.deadQueue),
      payTimers: await count(names.delayQueue),
      dueTimeouts: await count(names.timeoutQueue),
      deadTimeouts: await count(names.timeoutDeadQueue),
      alerts: await count(names.alertQueue),
    };
  } catch (err) {
    throw unavailable('Could not read the queue depths from RabbitMQ.', err);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** basic.get up to `max` messages, then ack them all; unreadable ones are logged and dropped. */
export async function take<T>(link: Link, queue: string, max: number, logger: BusLogger, parse: (body: Buffer) => T = parseJson<T>): Promise<T[]> {
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
export async function replay(link: Link, names: TopologyNames, max: number): Promise<number> {
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
