import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { SERVICE_URLS, servicesAvailable } from '../../../test/support/services.ts';
import type { Delivery } from '../../core/ports/order-bus.ts';
import type { OrderMessage, SeckillResult } from '../../core/model.ts';
import {
  CONTRACT_ALERT_QUEUE_MAX,
  CONTRACT_MAX_ATTEMPTS,
  CONTRACT_PAY_TIMEOUT_MS,
  CONTRACT_RETRY_BACKOFF,
  deferred,
  describeOrderBus,
  order,
  result,
  sleep,
  waitFor,
  type OrderBusFixture,
} from './order-bus.contract.ts';
import { createRabbitOrderBus, type RabbitOrderBus } from './rabbitmq-order-bus.ts';
import { connectionLoss, type ConnectionLoss } from './rabbitmq-connection-loss.fixture.ts';
import { deleteTopology, QueueDeclarationConflict, topologyNames, type QueueType } from './rabbitmq-topology.ts';

/** A short heartbeat, so a publish frame's longest way to the broker (two heartbeats) is short too. */
const url = withParam(SERVICE_URLS.rabbitmq, 'heartbeat', '1');
/** The broker's statistics interval (RabbitMQ's default, 5 s) plus two heartbeats. */
const DRAIN_SETTLE_MS = 7000;

function withParam(raw: string, key: string, value: string): string {
  const u = new URL(raw);
  u.searchParams.set(key, value);
  return u.toString();
}
const up = await servicesAvailable('rabbitmq');
const filePrefix = `test.${randomUUID().slice(0, 8)}.`;
let namespaces = 0;

/**
 * A fresh namespace per test: its own prefix, torn down afterwards. Quorum namespaces get a delivery limit
 * as small as the attempts, so an outage or a hand-counted retry that the broker counted would show.
 */
async function freshRabbit(queueType: QueueType = 'classic', deliveryLimit = CONTRACT_MAX_ATTEMPTS): Promise<OrderBusFixture & { bus: RabbitOrderBus; loss: ConnectionLoss }> {
  const prefix = `${filePrefix}${++namespaces}.`;
  const buses: RabbitOrderBus[] = [];
  const make = async (loss = connectionLoss()): Promise<RabbitOrderBus> => {
    const bus = await createRabbitOrderBus({ url, prefix, maxAttempts: CONTRACT_MAX_ATTEMPTS, payTimeoutMs: CONTRACT_PAY_TIMEOUT_MS, retryBackoff: CONTRACT_RETRY_BACKOFF, alertQueueMax: CONTRACT_ALERT_QUEUE_MAX, queueType, deliveryLimit, connect: loss.connect });
    buses.push(bus);
    return bus;
  };
  const loss = connectionLoss();
  const bus = await make(loss);
  return {
    bus,
    loss,
    makePeer: () => make(),
    cleanup: async () => {
      for (const b of buses) await b.close();
      const admin = await connect(url);
      try {
        await deleteTopology(await admin.createChannel(), topologyNames(prefix, CONTRACT_PAY_TIMEOUT_MS));
      } finally {
        await admin.close();
      }
    },
  };
}

/** Publish a body the way a process of the previous release did: one lone JSON object (or number) per message. */
async function publishRaw(exchange: string, routingKey: string, body: unknown): Promise<void> {
  const raw = await connect(url);
  try {
    const channel = await raw.createConfirmChannel();
    channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), { persistent: true, contentType: 'application/json' });
    await channel.waitForConfirms();
  } finally {
    await raw.close();
  }
}

describe.skipIf(!up)('RabbitOrderBus', () => {
  describeOrderBus('RabbitOrderBus, classic queues', () => freshRabbit('classic'), { drainSettleMs: DRAIN_SETTLE_MS });
  describeOrderBus('RabbitOrderBus, quorum queues', () => freshRabbit('quorum'), { drainSettleMs: DRAIN_SETTLE_MS });

  describe('quorum queues', () => {
    it('a batch whose every consumer dies with it in hand is dead-lettered by the broker after the delivery limit, not looped', async () => {
      const fx = await freshRabbit('quorum', 2);
      const { bus } = fx;
      try {
        let deliveries = 0;
        await bus.consumeOrders(async () => {
          deliveries++;
          await fx.loss.cut(); // the process "dies" before it can ack or count anything
          await sleep(50);
        });
        await bus.publishOrders([order(1)]);
        await waitFor(async () => (await peekDead(bus)) === 1, 20_000);
        expect(deliveries).toBe(3); // the first delivery and two more: the limit
        await bus.whenConnected();
        expect(await bus.takeDeadOrders(10)).toEqual([order(1)]);
      } finally {
        await fx.cleanup();
      }
    });

    it('a namespace made with classic queues refuses to start as quorum, naming the queue', async () => {
      const fx = await freshRabbit('classic');
      try {
        const prefix = fx.bus.names.pendingQueue.slice(0, -'order.pending'.length);
        const attempt = createRabbitOrderBus({ url, prefix, payTimeoutMs: CONTRACT_PAY_TIMEOUT_MS, queueType: 'quorum', connectRetries: 1 });
        await expect(attempt).rejects.toBeInstanceOf(QueueDeclarationConflict);
        await expect(attempt).rejects.toMatchObject({ queue: expect.stringMatching(/order\.(pending|pending\.dead)$/), queueType: 'quorum' });
        // The classic bus is unharmed.
        await fx.bus.publishOrders([order(1)]);
      } finally {
        await fx.cleanup();
      }
    });
  });

  describe('messages left by the previous release (a lone object per message)', () => {
    it('a lone order on the pending queue is delivered as a batch of one', async () => {
      const fx = await freshRabbit();
      try {
        const seen: [OrderMessage[], Delivery][] = [];
        await fx.bus.consumeOrders(async (batch, delivery) => {
          seen.push([batch, delivery]);
        });
        await publishRaw('', fx.bus.names.pendingQueue, order(1));
        await waitFor(() => seen.length >= 1);
        await sleep(250);
        expect(seen).toEqual([[[order(1)], { attempt: 1, redelivered: false }]]);
      } finally {
        await fx.cleanup();
      }
    });

    it('a lone due result, dead order, result and good id are read as batches of one on every other hop', async () => {
      const fx = await freshRabbit();
      const { bus } = fx;
      try {
        const due: SeckillResult[][] = [];
        const results: SeckillResult[][] = [];
        const stock: number[][] = [];
        await bus.consumeTimeouts(async (batch) => {
          due.push(batch);
        });
        await bus.subscribeResults((rs) => results.push(rs));
        await bus.subscribeStockAgain((ids) => stock.push(ids));

        await publishRaw('', bus.names.timeoutQueue, result('due', 'SUCCESS'));
        await publishRaw('', bus.names.deadQueue, order(2));
        await publishRaw(bus.names.resultExchange, 'Order.fail', result('old', 'FAIL'));
        await publishRaw(bus.names.stockAgainExchange, '', 7);
        await waitFor(() => due.length >= 1 && results.length >= 1 && stock.length >= 1);
        expect(due).toEqual([[result('due', 'SUCCESS')]]);
        expect(results).toEqual([[result('old', 'FAIL')]]);
        expect(stock).toEqual([[7]]);
        expect(await bus.takeDeadOrders(10)).toEqual([order(2)]);
      } finally {
        await fx.cleanup();
      }
    });
  });

  describe('connection loss', () => {
    it('a dropped connection reconnects, and consumers and subscribers keep receiving', async () => {
      const fx = await freshRabbit();
      const { bus } = fx;
      try {
        const orders: { uuid: string; redelivered: boolean }[] = [];
        const results: SeckillResult[][] = [];
        const stock: number[][] = [];
        await bus.consumeOrders(async (batch, delivery) => {
          for (const m of batch) orders.push({ uuid: m.uuid, redelivered: delivery.redelivered });
        });
        await bus.subscribeResults((rs) => results.push(rs));
        await bus.subscribeStockAgain((ids) => stock.push(ids));
        await bus.publishOrders([order(1)]);
        await waitFor(() => orders.length === 1);

        await fx.loss.cut({ outageMs: 300 });
        expect(bus.isConnected()).toBe(false);
        await bus.whenConnected();

        await bus.publishOrders([order(2)]);
        await bus.publishResults([result('u2', 'SUCCESS')]);
        await bus.broadcastStockAgain([5]);
        await waitFor(() => orders.some((o) => o.uuid === order(2).uuid) && results.length === 1 && stock.length === 1);
        expect(results).toEqual([[result('u2', 'SUCCESS')]]);
        expect(stock).toEqual([[5]]);
        // At-least-once, not exactly-once: the ack of order 1 is sent after its handler resolved, and amqplib
        // only writes it to the socket on a later tick. When the publish confirm and the delivery arrive in one
        // socket read (a loaded broker batches them), the waitFor above returns and the socket is destroyed with
        // that ack still unsent; the broker then hands order 1 out again. Allowed, if flagged as redelivered.
        expect([...new Set(orders.map((o) => o.uuid))]).toEqual([order(1).uuid, order(2).uuid]);
        expect(orders.slice(1).filter((o) => o.uuid === order(1).uuid).every((o) => o.redelivered)).toBe(true);
      } finally {
        await fx.cleanup();
      }
    });

    it('publishes during the outage reject at once with UNAVAILABLE instead of hanging', async () => {
      const fx = await freshRabbit();
      const { bus } = fx;
      try {
        await fx.loss.cut({ outageMs: 1000 });
        const started = Date.now();
        await expect(bus.publishOrders([order(1)])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        await expect(bus.publishResults([result('u', 'FAIL')])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        await expect(bus.broadcastStockAgain([1])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        await expect(bus.raiseAlert({ kind: 'k', message: 'm', at: new Date().toISOString() })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        expect(Date.now() - started).toBeLessThan(100);

        await bus.whenConnected();
        await bus.publishOrders([order(2)]);
      } finally {
        await fx.cleanup();
      }
    });

    it('publishes outstanding when the connection drops are written again on the next connection: each confirmed (and delivered) or UNAVAILABLE, none hangs', async () => {
      const fx = await freshRabbit();
      const { bus } = fx;
      try {
        const seen = new Set<string>();
        await bus.consumeOrders(async (batch) => {
          for (const m of batch) seen.add(m.uuid);
        });
        const started = Date.now();
        const publishes = Array.from({ length: 2000 }, (_, i) => bus.publishOrders([order(i)]));
        void fx.loss.cut({ outageMs: 200 });
        const settled = await Promise.allSettled(publishes);
        expect(Date.now() - started).toBeLessThan(5000 + 1000); // the confirm deadline, and a margin
        for (const r of settled) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'UNAVAILABLE' });
        const confirmed = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [order(i).uuid] : []));
        expect(confirmed.length).toBeGreaterThan(0);
        await waitFor(() => confirmed.every((uuid) => seen.has(uuid)), 20_000);
      } finally {
        await fx.cleanup();
      }
    });

    it('a message whose confirm was lost with the connection is published again and resolves on that copy\'s confirm', async () => {
      const fx = await freshRabbit();
      const { bus } = fx;
      try {
        const seen: string[] = [];
        await bus.consumeOrders(async (batch) => {
          seen.push(...batch.map((m) => m.uuid));
        });
        const publish = bus.publishOrders([order(1)]);
        void fx.loss.cut({ outageMs: 300 }); // the frames die with the socket, unconfirmed
        await publish;
        await waitFor(() => seen.includes(order(1).uuid));
      } finally {
        await fx.cleanup();
      }
    });

    it('a lost confirm is not published again past the batch\'s send-by moment, nor past the confirm deadline: UNAVAILABLE, unconfirmed', async () => {
      const fx = await freshRabbit();
      const { bus } = fx;
      const quickLoss = connectionLoss();
      const quick = await createRabbitOrderBus({ url, prefix: bus.names.pendingQueue.slice(0, -'order.pending'.length), payTimeoutMs: CONTRACT_PAY_TIMEOUT_MS, alertQueueMax: CONTRACT_ALERT_QUEUE_MAX, confirmTimeoutMs: 400, connect: quickLoss.connect });
      try {
        const seen: string[] = [];
        await bus.consumeOrders(async (batch) => {
          seen.push(...batch.map((m) => m.uuid));
        });
        const late = bus.publishOrders([order(1)], { sendBy: Date.now() + 50 });
        void fx.loss.cut({ outageMs: 300 });
        await expect(late).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { unconfirmed: true } });

        const started = Date.now();
        const slow = quick.publishOrders([order(2)]);
        void quickLoss.cut({ outageMs: 1500 });
        await expect(slow).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { unconfirmed: true } });
        expect(Date.now() - started).toBeLessThan(1000);

        // Neither was written again: the socket died before either frame left, so no consumer sees them.
        await bus.whenConnected();
        await quick.whenConnected();
        await sleep(500);
        expect(seen).toEqual([]);
      } finally {
        await quick.close();
        await fx.cleanup();
      }
    });

    it('a message in hand when the connection drops is delivered again after the reconnect (at-least-once)', async () => {
      const fx = await freshRabbit();
      const { bus } = fx;
      try {
        const seen: Delivery[] = [];
        const firstStarted = deferred();
        const release = deferred();
        await bus.consumeOrders(async (_m, delivery) => {
          seen.push(delivery);
          if (seen.length === 1) {
            firstStarted.resolve();
            await release.promise; // finishes after its connection is gone: the ack cannot be sent
          }
        });
        await bus.publishOrders([order(1)]);
        await firstStarted.promise;

        await fx.loss.cut();
        await bus.whenConnected();
        release.resolve();
        await waitFor(() => seen.length === 2);
        expect(seen[1]).toEqual({ attempt: 1, redelivered: true });
      } finally {
        await fx.cleanup();
      }
    });

    it('a consumer the broker cancels (its queue was deleted) is rebuilt with the topology', async () => {
      const fx = await freshRabbit();
      const { bus } = fx;
      try {
        const orders: string[] = [];
        await bus.consumeOrders(async (batch) => {
          orders.push(...batch.map((m) => m.uuid));
        });
        const admin = await connect(url);
        await (await admin.createChannel()).deleteQueue(bus.names.pendingQueue);
        await admin.close();

        await waitFor(async () => {
          await bus.whenConnected();
          return bus.publishOrders([order(1)]).then(
            () => true,
            () => false,
          );
        });
        await waitFor(() => orders.length === 1);
      } finally {
        await fx.cleanup();
      }
    });
  });
});

/** Messages waiting in the dead queue, without taking them. */
async function peekDead(bus: RabbitOrderBus): Promise<number> {
  const admin = await connect(url);
  try {
    return (await (await admin.createChannel()).checkQueue(bus.names.deadQueue)).messageCount;
  } finally {
    await admin.close();
  }
}
