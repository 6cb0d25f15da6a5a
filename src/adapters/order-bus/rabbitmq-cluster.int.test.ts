/**
 * The RabbitMQ bus on a private three-node cluster (rabbitmq-cluster.fixture.ts) with quorum queues, given
 * every node in its URL: kill -9 of the node it is connected to moves it to another node, consumers resume,
 * every batch whose publish was confirmed is delivered, a batch refused outright is never delivered, and no
 * publish outlives its deadline. The cases run in order on one cluster (starting one is slow): the first kills
 * node 1, the second reads the management API with node 1 dead, the third starts node 1 again and kills the
 * node a new bus is on while publishes race the kill.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeckillError } from '../../core/errors.ts';
import type { OrderMessage } from '../../core/model.ts';
import { sleep, waitFor } from './order-bus.fixture.ts';
import { rabbitClusterAvailable, startRabbitCluster, STATS_INTERVAL_MS, type RabbitCluster, type RabbitNode } from './rabbitmq-cluster.fixture.ts';
import { createRabbitOrderBus, type BusLogger, type RabbitOrderBus } from './rabbitmq-order-bus.ts';

const available = rabbitClusterAvailable();
/** The product's default: a publish not confirmed by then rejects UNAVAILABLE (unconfirmed). */
const CONFIRM_MS = 5000;
/** Event-loop lag of a loaded test machine on top of a deadline. */
const LAG_MS = 1000;

interface Line {
  at: number;
  level: 'info' | 'warn' | 'error';
  msg: string;
  obj: object;
}

function capture(): BusLogger & { lines: Line[] } {
  const lines: Line[] = [];
  const put = (level: Line['level']) => (obj: object, msg = '') => lines.push({ at: Date.now(), level, msg, obj });
  return { lines, info: put('info'), warn: put('warn'), error: put('error') };
}

interface Outcome {
  uuids: string[];
  startedAt: number;
  endedAt: number;
  /** confirmed: resolved; unconfirmed: UNAVAILABLE that may have reached the queue; refused: UNAVAILABLE, nothing sent. */
  result: 'confirmed' | 'unconfirmed' | 'refused';
}

/**
 * `lanes` publishers, each publishing a batch after the last settled (a short pause after a refusal, as buyers
 * would), and, with `everyMs`, one more batch every `everyMs` whatever the others are waiting for (an api
 * process keeps publishing while earlier batches wait for their confirms).
 */
function publishers(bus: RabbitOrderBus, tag: string, lanes: number, opts: { sendByMs?: number; everyMs?: number } = {}) {
  const outcomes: Outcome[] = [];
  let running = true;
  let seq = 0;
  const publishOne = async (): Promise<Outcome['result']> => {
    const batch: OrderMessage[] = Array.from({ length: 1 + (seq % 3) }, () => {
      const n = ++seq;
      return { uuid: `${tag}-${n}`, userId: n, seckillGoodId: 1 + (n % 3), reservedAt: Date.now() };
    });
    const startedAt = Date.now();
    const uuids = batch.map((m) => m.uuid);
    let result: Outcome['result'] = 'confirmed';
    try {
      await bus.publishOrders(batch, opts.sendByMs === undefined ? undefined : { sendBy: startedAt + opts.sendByMs });
    } catch (err) {
      expect(err).toBeInstanceOf(SeckillError);
      expect(err).toMatchObject({ code: 'UNAVAILABLE' });
      result = ((err as SeckillError).details as { unconfirmed?: boolean } | undefined)?.unconfirmed === true ? 'unconfirmed' : 'refused';
    }
    outcomes.push({ uuids, startedAt, endedAt: Date.now(), result });
    return result;
  };
  const lane = async () => {
    while (running) if ((await publishOne()) !== 'confirmed') await sleep(5);
  };
  const all = Array.from({ length: lanes }, lane);
  const ticks: Promise<unknown>[] = [];
  const ticker = opts.everyMs === undefined ? undefined : setInterval(() => ticks.push(publishOne()), opts.everyMs);
  return {
    outcomes,
    async stop(): Promise<Outcome[]> {
      running = false;
      clearInterval(ticker);
      await Promise.all([...all, ...ticks]);
      return outcomes;
    },
  };
}

/** uuid → deliveries, from a consumer on the bus. */
async function recordDeliveries(bus: RabbitOrderBus): Promise<Map<string, number>> {
  const delivered = new Map<string, number>();
  await bus.consumeOrders(async (batch) => {
    for (const m of batch) delivered.set(m.uuid, (delivered.get(m.uuid) ?? 0) + 1);
  });
  return delivered;
}

/** The rules every publish kept, checked once every confirmed batch has been delivered and deliveries stopped. */
async function checkOutcomes(outcomes: Outcome[], delivered: Map<string, number>) {
  for (const o of outcomes) expect(o.endedAt - o.startedAt, `a publish of ${o.uuids[0]} took too long`).toBeLessThan(CONFIRM_MS + LAG_MS);
  const of = (result: Outcome['result']) => outcomes.filter((o) => o.result === result).flatMap((o) => o.uuids);
  const confirmed = of('confirmed');
  await waitFor(() => confirmed.every((u) => delivered.has(u)), 30_000);
  // Quiet for a while: whatever else is coming has come.
  let total = -1;
  await waitFor(async () => {
    const now = [...delivered.values()].reduce((a, b) => a + b, 0);
    const quiet = now === total;
    total = now;
    if (!quiet) await sleep(1500);
    return quiet;
  }, 30_000);
  const refused = of('refused');
  expect(refused.filter((u) => delivered.has(u)), 'refused outright, yet delivered').toEqual([]);
  const unconfirmed = of('unconfirmed');
  const batches = (result: Outcome['result']) => outcomes.filter((o) => o.result === result).length;
  return {
    batches: { confirmed: batches('confirmed'), unconfirmed: batches('unconfirmed'), refused: batches('refused') },
    orders: {
      confirmed: confirmed.length,
      unconfirmed: unconfirmed.length,
      unconfirmedDelivered: unconfirmed.filter((u) => delivered.has(u)).length,
      refused: refused.length,
      delivered: delivered.size,
      deliveredTwice: [...delivered.values()].filter((n) => n > 1).length,
    },
  };
}

describe.skipIf(!available)('RabbitMQ cluster: AMQP_URL naming three nodes, quorum queues', () => {
  let cluster: RabbitCluster;
  const buses: RabbitOrderBus[] = [];

  const open = async (url: string, prefix: string, logger: BusLogger, management?: string[]) => {
    const bus = await createRabbitOrderBus({
      url,
      prefix,
      queueType: 'quorum',
      confirmTimeoutMs: CONFIRM_MS,
      logger,
      ...(management ? { management: { urls: management, statsIntervalMs: STATS_INTERVAL_MS } } : {}),
    });
    buses.push(bus);
    return bus;
  };
  const nodeOn = (bus: RabbitOrderBus): RabbitNode => {
    const node = cluster.nodes.find((n) => n.label === bus.connectedNode());
    if (!node) throw new Error(`the bus is on no node of the cluster (${bus.connectedNode()})`);
    return node;
  };

  beforeAll(async () => {
    const startedAt = Date.now();
    cluster = await startRabbitCluster();
    console.log(`[rabbitmq cluster] three nodes up as one cluster in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  }, 110_000);

  afterAll(async () => {
    await Promise.all(buses.map((b) => Promise.race([b.close().catch(() => undefined), sleep(3000)])));
    await cluster?.stop();
  });

  /** Kill the node `bus` is on while `lanes` publish; returns what the failover looked like. */
  async function failover(bus: RabbitOrderBus, log: ReturnType<typeof capture>, tag: string, lanes: number, opts: { sendByMs?: number; everyMs?: number } = {}) {
    const victim = nodeOn(bus);
    const run = publishers(bus, tag, lanes, opts);
    await sleep(800);
    const killedAt = Date.now();
    cluster.kill(victim);
    await waitFor(() => bus.connectedNode() !== null && bus.connectedNode() !== victim.label, 30_000);
    const to = nodeOn(bus);
    const confirmedSinceKill = () => run.outcomes.filter((o) => o.result === 'confirmed' && o.startedAt >= killedAt);
    await waitFor(() => confirmedSinceKill().length > 0, 20_000);
    await sleep(1000); // publishing and consuming on the new node
    const outcomes = await run.stop();
    const firstConfirmed = Math.min(...confirmedSinceKill().map((o) => o.endedAt));
    // The walk starts at the node after the one that failed, and one line tells each move.
    const since = log.lines.filter((l) => l.at >= killedAt);
    const firstTry = since.find((l) => l.msg === 'rabbitmq connect failed' || l.msg.startsWith('rabbitmq: moved to node'));
    const next = cluster.nodes[victim.index % 3]!;
    expect(firstTry?.msg === 'rabbitmq connect failed' ? (firstTry.obj as { node: string }).node : firstTry?.msg).toMatch(next.label);
    const moved = since.filter((l) => l.msg.startsWith('rabbitmq: moved to node'));
    expect(moved.at(-1)?.msg).toBe(`rabbitmq: moved to node ${to.label}`);
    return { victim, to, outcomes, killedAt, reconnectMs: moved[0]!.at - killedAt, failoverMs: firstConfirmed - killedAt };
  }

  it('kill -9 of the node the bus is on: it moves to another node, consumers resume, every confirmed batch is delivered, no publish hangs', async () => {
    const log = capture();
    const url = cluster.nodes.map((n) => n.url).join(',');
    const bus = await open(url, 'kill.', log);
    expect(bus.connectedNode()).toBe(cluster.nodes[0].label); // the order written
    const delivered = await recordDeliveries(bus);

    const f = await failover(bus, log, 'kill', 4);
    const figures = await checkOutcomes(f.outcomes, delivered);
    console.log(
      `[rabbitmq cluster] kill -9 of ${f.victim.label}: moved to ${f.to.label} after ${f.reconnectMs} ms; ` +
        `first publish confirmed on the new node ${f.failoverMs} ms after the kill; ${JSON.stringify(figures)}`,
    );
    expect(f.outcomes.filter((o) => o.result === 'confirmed' && o.startedAt > f.killedAt).length).toBeGreaterThan(0);
    expect(figures.orders.confirmed).toBeGreaterThan(0);
  });

  it('with a node dead, pendingDrainedAt() still reads the queue through the management API of another node', async () => {
    const log = capture();
    const dead = cluster.nodes[0];
    const live = cluster.nodes.filter((n) => n !== dead);
    // The dead node's API first: the reading must go on to the next.
    const bus = await open(live.map((n) => n.url).join(','), 'drain.', log, [dead, ...live].map((n) => n.managementUrl));
    await bus.publishOrders([{ uuid: 'drain-1', userId: 1, seckillGoodId: 1, reservedAt: Date.now() }]);
    const until = Date.now() + 3 * STATS_INTERVAL_MS;
    while (Date.now() < until) {
      expect(await bus.pendingDrainedAt()).toBeNull(); // a batch waits on the queue
      await sleep(200);
    }
    const delivered = await recordDeliveries(bus);
    await waitFor(() => delivered.has('drain-1'));
    const consumedAt = Date.now();
    await waitFor(async () => (await bus.pendingDrainedAt()) !== null, 15_000);
    console.log(`[rabbitmq cluster] pendingDrainedAt with ${dead.label} dead: drained moment known ${Date.now() - consumedAt} ms after the batch was taken`);
  });

  it('publishes racing the kill of the node a bus is on: every confirmed one is delivered, none refused outright is; a returning node rejoins', async () => {
    const restartedAt = Date.now();
    await cluster.restart(cluster.nodes[0]);
    console.log(`[rabbitmq cluster] ${cluster.nodes[0].label} started again in ${((Date.now() - restartedAt) / 1000).toFixed(1)} s`);
    const log = capture();
    // The short form: one URL with a host list.
    const url = `amqp://guest:guest@${cluster.nodes.map((n) => n.label).join(',')}`;
    const bus = await open(url, 'race.', log);
    expect(bus.connectedNode()).toBe(cluster.nodes[0].label); // the returning node serves again
    const delivered = await recordDeliveries(bus);

    // Many lanes, so that many publishes are written and not yet confirmed when the node dies, and a batch
    // every 5 ms besides, so that some are made while no node is connected (refused outright). Each has a
    // send-by moment 300 ms after it is made, which a copy to write again after the failover may have passed.
    const f = await failover(bus, log, 'race', 24, { sendByMs: 300, everyMs: 5 });
    const figures = await checkOutcomes(f.outcomes, delivered);
    expect(figures.orders.refused).toBeGreaterThan(0);
    console.log(
      `[rabbitmq cluster] racing kill -9 of ${f.victim.label}: moved to ${f.to.label} after ${f.reconnectMs} ms; ` +
        `first publish confirmed on the new node ${f.failoverMs} ms after the kill; ${JSON.stringify(figures)}`,
    );
    const republished = log.lines.filter((l) => l.msg.startsWith('rabbitmq: messages not confirmed'));
    console.log(`[rabbitmq cluster] published again after the kill: ${JSON.stringify(republished.map((l) => l.obj))}`);
    console.log(`[rabbitmq cluster] log lines after the kill: ${JSON.stringify(log.lines.filter((l) => l.at >= f.killedAt && l.level !== 'info').map((l) => l.msg))}`);
    expect(figures.orders.confirmed).toBeGreaterThan(0);
  });
});
