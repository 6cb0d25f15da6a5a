/**
 * The result push beyond one socket: two push processes on one bus (a socket on either receives its result),
 * a broadcast a process missed (read back from the database), and a thousand concurrent sockets on loopback
 * each receiving exactly their own result. Prints sockets held and results/s; asserts no times.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { OrderBus, Subscription } from '../../src/core/ports/order-bus.ts';
import type { SeckillResult } from '../../src/core/model.ts';
import { createRabbitOrderBus } from '../../src/adapters/order-bus/rabbitmq-order-bus.ts';
import { createMetrics } from '../../src/entry-points/metrics.ts';
import { startResultPushServer, type ResultPushServer } from '../../src/entry-points/ws/result-push-server.ts';
import { apiClient, bootTestApp, mapLimit, newUuid, type ApiClient, type Mode, type TestApp, loginAdmin } from '../support/app.ts';
import { makeBuyers, type Buyer } from '../support/buyers.ts';
import { SERVICE_URLS, servicesAvailable } from '../support/services.ts';
import { systemTimers } from '../../src/adapters/timers/system-timers.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');
const silent = pino({ level: 'silent' });
const systemClock = { now: () => new Date() };

interface Watched {
  opened: Promise<void>;
  /** The first frame's arrival. */
  frame: Promise<void>;
  done: Promise<{ frames: any[]; code: number }>;
}

function watch(url: string): Watched {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  const frames: any[] = [];
  let framed: () => void = () => undefined;
  const frame = new Promise<void>((resolve) => (framed = resolve));
  socket.on('message', (data) => {
    frames.push(JSON.parse((data as Buffer).toString('utf8')));
    framed();
  });
  return {
    frame,
    opened: new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    }),
    done: new Promise((resolve) => socket.once('close', (code) => resolve({ frames, code }))),
  };
}

const pushUrl = (push: ResultPushServer) => `ws://127.0.0.1:${push.port}`;

describe.each<Mode>(['embedded', 'services'])('result push across processes and at scale (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;
  let adminToken: string;
  /** The second push process: its own bus connection (services: its own anonymous queue) on the same prefix. */
  let second: { push: ResultPushServer; bus: Pick<OrderBus, 'subscribeResults' | 'close'> | null };

  const newSale = async (stock: number) => {
    const now = Date.now();
    const r = await api('POST', '/api/admin/seckill/goods', {
      token: adminToken,
      body: { name: `Push ${stock}`, price: 100, seckillPrice: 1, stock, startAt: new Date(now - 1000).toISOString(), endAt: new Date(now + 3_600_000).toISOString() },
    });
    expect(r.status).toBe(201);
    return r.body.id as number;
  };
  const order = (buyer: Buyer, seckillGoodId: number, uuid: string) =>
    api('POST', '/api/seckill/orders', { token: buyer.token, body: { seckillGoodId, uuid } });

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode);
    api = apiClient(app.httpUrl);
    adminToken = await loginAdmin(api);
    const bus =
      mode === 'services'
        ? await createRabbitOrderBus({ url: SERVICE_URLS.rabbitmq, prefix: app.config.amqpPrefix, payTimeoutMs: app.config.payTimeoutMs })
        : null;
    const push = await startResultPushServer(
      { signer: app.signer, clock: systemClock, timers: systemTimers, bus: bus ?? app.adapters.bus, store: app.adapters.store, logger: silent, metrics: createMetrics() },
      { host: '127.0.0.1', port: 0 },
    );
    second = { push, bus };
  }, 60_000);

  afterAll(async () => {
    await second?.push.close();
    await second?.bus?.close();
    await app?.destroy();
  });

  it.skipIf(skip)('a result reaches its socket on either push process, and on both when both hold one', async () => {
    const goodId = await newSale(10);
    const [a, b, c] = await makeBuyers(app, 3);
    const [ua, ub, uc] = [newUuid(), newUuid(), newUuid()];
    const onFirst = watch(`${app.wsUrl}/${ua}?token=${a!.token}`);
    const onSecond = watch(`${pushUrl(second.push)}/${ub}?token=${b!.token}`);
    const onBoth = [watch(`${app.wsUrl}/${uc}?token=${c!.token}`), watch(`${pushUrl(second.push)}/${uc}?token=${c!.token}`)];
    await Promise.all([onFirst, onSecond, ...onBoth].map((w) => w.opened));

    for (const [buyer, uuid] of [[a, ua], [b, ub], [c, uc]] as const) expect((await order(buyer!, goodId, uuid)).status).toBe(200);

    for (const [w, uuid] of [[onFirst, ua], [onSecond, ub], [onBoth[0]!, uc], [onBoth[1]!, uc]] as const) {
      const { frames, code } = await w.done;
      expect(code).toBe(1000);
      expect(frames).toEqual([{ uuid, status: 'SUCCESS', orderNo: expect.any(String), seckillGoodId: goodId }]);
    }
    const [first, both] = [await onBoth[0]!.done, await onBoth[1]!.done];
    expect(first.frames[0].orderNo).toBe(both.frames[0].orderNo);

    // Late: the second process kept the result of the request it never held a socket for.
    const late = await watch(`${pushUrl(second.push)}/${ua}?token=${a!.token}`).done;
    expect(late.frames).toEqual([(await onFirst.done).frames[0]]);
    // And never to anyone else.
    expect((await watch(`${pushUrl(second.push)}/${ua}?token=${b!.token}`).done).code).toBe(4403);
  });

  it.skipIf(skip)('a socket whose process missed the broadcast gets the result from the database', async () => {
    // A push process whose subscription never delivers: what a process sees while it reconnects to the broker.
    const deaf: Pick<OrderBus, 'subscribeResults'> = { subscribeResults: async () => ({ close: async () => undefined }) };
    const push = await startResultPushServer(
      { signer: app.signer, clock: systemClock, timers: systemTimers, bus: deaf, store: app.adapters.store, logger: silent, metrics: createMetrics() },
      { host: '127.0.0.1', port: 0, recheckMs: 200 },
    );
    try {
      const goodId = await newSale(5);
      const [buyer] = await makeBuyers(app, 1);
      const uuid = newUuid();
      const socket = watch(`${pushUrl(push)}/${uuid}?token=${buyer!.token}`);
      await socket.opened;
      expect((await order(buyer!, goodId, uuid)).status).toBe(200);
      const { frames, code } = await socket.done;
      expect(code).toBe(1000);
      expect(frames).toEqual([{ uuid, status: 'SUCCESS', orderNo: expect.any(String), seckillGoodId: goodId }]);
    } finally {
      await push.close();
    }
  });

  /** Orders for these buyers, returned once the worker has stored every result. */
  const decided = async (buyers: readonly Buyer[], goodId: number) => {
    const uuids = buyers.map(() => newUuid());
    for (const [i, buyer] of buyers.entries()) expect((await order(buyer, goodId, uuids[i]!)).status).toBe(200);
    for (let i = 0; i < 500 && (await app.adapters.store.getResults(uuids)).length < uuids.length; i++) await new Promise((r) => setTimeout(r, 20));
    const stored = await app.adapters.store.getResults(uuids);
    expect(stored).toHaveLength(uuids.length);
    return uuids.map((u) => stored.find((r) => r.uuid === u)!);
  };
  const deaf: Pick<OrderBus, 'subscribeResults'> = { subscribeResults: async () => ({ close: async () => undefined }) };

  it.skipIf(skip)('a socket connecting for a result decided before its push server started gets it from the database', async () => {
    const goodId = await newSale(2);
    const [first, second] = await makeBuyers(app, 2);
    const [a1, a2] = await decided([first!, second!], goodId);
    // Started afterwards and deaf to the broadcast, with no recheck in the test's time: only the read at connect can answer.
    const push = await startResultPushServer(
      { signer: app.signer, clock: systemClock, timers: systemTimers, bus: deaf, store: app.adapters.store, logger: silent, metrics: createMetrics() },
      { host: '127.0.0.1', port: 0, recheckMs: 600_000 },
    );
    try {
      const [mine, theirs, notMine] = [
        watch(`${pushUrl(push)}/${a1!.uuid}?token=${first!.token}`),
        watch(`${pushUrl(push)}/${a2!.uuid}?token=${second!.token}`),
        watch(`${pushUrl(push)}/${a1!.uuid}?token=${second!.token}`),
      ];
      expect(await mine.done).toEqual({ code: 1000, frames: [{ uuid: a1!.uuid, status: 'SUCCESS', orderNo: a1!.orderNo, seckillGoodId: goodId }] });
      expect(await theirs.done).toEqual({ code: 1000, frames: [{ uuid: a2!.uuid, status: 'SUCCESS', orderNo: a2!.orderNo, seckillGoodId: goodId }] });
      expect(await notMine.done).toEqual({ code: 4403, frames: [] });
    } finally {
      await push.close();
    }
  });

  it.skipIf(skip)('many sockets connecting at once cost a bounded number of database reads, each uuid asked once', async () => {
    const goodId = await newSale(3);
    const buyers = await makeBuyers(app, 3);
    const stored = await decided(buyers, goodId);
    // The first read is held until every socket is open: whatever connects meanwhile must wait and share reads.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const reads: string[][] = [];
    const store = {
      async getResults(uuids: readonly string[]) {
        reads.push([...uuids]);
        if (reads.length === 1) await held;
        return app.adapters.store.getResults(uuids);
      },
    };
    const push = await startResultPushServer(
      { signer: app.signer, clock: systemClock, timers: systemTimers, bus: deaf, store, logger: silent, metrics: createMetrics() },
      { host: '127.0.0.1', port: 0, recheckMs: 600_000, maxSocketsPerUser: 10_000 },
    );
    try {
      const N = 1200;
      const waiting = Array.from({ length: N }, () => newUuid());
      const quiet = waiting.map((u) => watch(`${pushUrl(push)}/${u}?token=${buyers[0]!.token}`));
      const answered = stored.map((r, i) => watch(`${pushUrl(push)}/${r.uuid}?token=${buyers[i]!.token}`));
      await Promise.all([...quiet, ...answered].map((w) => w.opened));
      release();
      const results = await Promise.all(answered.map((w) => w.done));
      results.forEach(({ frames, code }, i) => {
        expect(code).toBe(1000);
        expect(frames).toEqual([{ uuid: stored[i]!.uuid, status: 'SUCCESS', orderNo: stored[i]!.orderNo, seckillGoodId: goodId }]);
      });
      for (let i = 0; i < 500 && reads.flat().length < N + stored.length; i++) await new Promise((r) => setTimeout(r, 10));
      const asked = reads.flat();
      expect(asked).toHaveLength(N + stored.length);
      expect(new Set(asked).size).toBe(N + stored.length);
      // One read in flight at a time, 500 uuids at most per read: the held one, then the rest in ⌈1203 / 500⌉.
      expect(reads.length).toBeLessThanOrEqual(1 + Math.ceil((N + stored.length) / 500));
      // The quiet ones are all still held (the answered ones may still be closing).
      expect(push.socketCount()).toBeGreaterThanOrEqual(N);
    } finally {
      await push.close();
    }
  });

  it.skipIf(skip)(
    'a thousand concurrent sockets on loopback each receive exactly their own result',
    async () => {
      const N = 1000;
      const goodId = await newSale(N);
      const buyers = await makeBuyers(app, N);
      const uuids = buyers.map(() => newUuid());
      const pushes = [app.wsUrl!, pushUrl(second.push)];
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();

      // Half the sockets on each push process.
      let t0 = performance.now();
      const sockets = buyers.map((b, i) => watch(`${pushes[i % 2]}/${uuids[i]}?token=${b.token}`));
      await Promise.all(sockets.map((s) => s.opened));
      const openMs = performance.now() - t0;
      const held = second.push.socketCount() + Number((await app.metrics.wsSockets.get()).values[0]?.value ?? 0);

      t0 = performance.now();
      const answers = await mapLimit(buyers, 100, (b, i) => order(b, goodId, uuids[i]!));
      expect(answers.every((r) => r.status === 200)).toBe(true);
      await Promise.all(sockets.map((s) => s.frame));
      const e2eMs = performance.now() - t0;
      loop.disable();
      const results = await Promise.all(sockets.map((s) => s.done));

      const orderNos = new Set<string>();
      results.forEach(({ frames, code }, i) => {
        expect(code).toBe(1000);
        expect(frames).toEqual([{ uuid: uuids[i], status: 'SUCCESS', orderNo: expect.any(String), seckillGoodId: goodId }]);
        orderNos.add(frames[0].orderNo);
      });
      expect(orderNos.size).toBe(N);

      const pushOnly = await pushOnlyRate(app, N);
      console.info(
        `[ws ${mode}] ${N} sockets over 2 push processes: ${held} held at once (opened in ${openMs.toFixed(0)} ms); ` +
          `end to end (POST → worker → bus → socket): ${N} results in ${e2eMs.toFixed(0)} ms = ${((N * 1000) / e2eMs).toFixed(0)} results/s; ` +
          `event-loop delay (api, worker, database and 1000 clients in this one process): max ${(loop.max / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms; ` +
          `push only (${N} results handed to one push server at once → frames at ${N} sockets): ${pushOnly.perSecond.toFixed(0)} results/s, ` +
          `longest event-loop stall meanwhile ${pushOnly.stallMs.toFixed(1)} ms`,
      );
    },
    180_000,
  );
});

/**
 * The push server's own capacity: N sockets wait, N results are handed to its subscription at once
 * (a bus stand-in, so the measurement holds no worker or database), until every socket has its frame.
 */
async function pushOnlyRate(app: TestApp, n: number): Promise<{ perSecond: number; stallMs: number }> {
  let emit: (r: SeckillResult[]) => void = () => undefined;
  const bus: Pick<OrderBus, 'subscribeResults'> = {
    subscribeResults: async (handler): Promise<Subscription> => {
      emit = handler;
      return { close: async () => undefined };
    },
  };
  const noStore = { getResults: async () => [] };
  const push = await startResultPushServer(
    { signer: app.signer, clock: systemClock, timers: systemTimers, bus, store: noStore, logger: silent, metrics: createMetrics() },
    { host: '127.0.0.1', port: 0 },
  );
  try {
    const users = Array.from({ length: n }, (_, i) => ({ userId: 1_000_000 + i, uuid: newUuid() }));
    const sockets = users.map((u) => watch(`ws://127.0.0.1:${push.port}/${u.uuid}?token=${app.signer.sign({ userId: u.userId, role: 'user' }, new Date()).token}`));
    await Promise.all(sockets.map((s) => s.opened));
    // The longest gap between ticks of a 1 ms timer: how long this process could not answer anything else.
    let last = performance.now();
    let stallMs = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      stallMs = Math.max(stallMs, now - last);
      last = now;
    }, 1);
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    // As a worker publishes them: batches of 500 results per message.
    const all: SeckillResult[] = users.map((u) => ({ uuid: u.uuid, userId: u.userId, seckillGoodId: 1, status: 'SUCCESS', orderNo: `N${u.userId}` }));
    for (let i = 0; i < all.length; i += 500) emit(all.slice(i, i + 500));
    await Promise.all(sockets.map((s) => s.frame));
    const ms = performance.now() - t0;
    clearInterval(ticker);
    const results = await Promise.all(sockets.map((s) => s.done));
    results.forEach(({ frames }, i) => expect(frames).toEqual([{ uuid: users[i]!.uuid, status: 'SUCCESS', orderNo: `N${users[i]!.userId}`, seckillGoodId: 1 }]));
    return { perSecond: (n * 1000) / ms, stallMs };
  } finally {
    await push.close();
  }
}
