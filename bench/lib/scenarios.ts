/**
 * The scenarios of issue 5, each a function of a started stack, so `npm run bench` and the smoke test run
 * the very same code (the smoke test with tiny sizes). Every scenario ends with the invariants of docs/api.md on
 * its own sale; none of them asserts a time.
 */
import { rawConfirmedPublish, onePerTransaction, type OnePerTxResult, type RawPublishResult } from './baselines.ts';
import { cpuBetween, cpuSnapshot, formatCpu, type CpuUse } from './cpu.ts';
import { checkInvariants, checkQueuedNotDrained, waitAtRest, type Check } from './invariants.ts';
import { epochMs, runLoad, type Buyer, type LoadResult } from './load.ts';
import { createSale, type Sale } from './seed.ts';
import { openSockets } from './sockets.ts';
import { watchResults, type Sql, type Stack } from './stack.ts';

export interface ScenarioContext {
  stack: Stack;
  adminToken: string;
  buyers: readonly Buyer[];
  connections: number;
  /** Unique per run: goes into every request id. */
  tag: string;
  log(line: string): void;
}

/** Request ids: deterministic per (run, sale, buyer), so result sockets can be opened beforehand. */
export const uuidMaker = (tag: string, saleId: number) => (i: number) => `${tag}-${saleId}-${i}`;

const summary = (l: LoadResult) =>
  `${l.requests} requests in ${l.seconds.toFixed(2)} s = ${Math.round(l.rps)} req/s, p50 ${l.latencyMs.p50} ms, p99 ${l.latencyMs.p99} ms, ` +
  `statuses ${JSON.stringify(l.statuses)}${l.errors ? `, ${l.errors} errors` : ''}${l.timeouts ? `, ${l.timeouts} timeouts` : ''}`;

// ---------------------------------------------------------------------------------------------------------
// 1. baseline: hello-world, the same requests, the same load generator.
// ---------------------------------------------------------------------------------------------------------

export async function helloBaseline(ctx: ScenarioContext, helloUrl: string, amount: number, helloPid?: number): Promise<LoadResult & { cpu: CpuUse }> {
  const pids = () => new Map([...ctx.stack.processes(), ...(helloPid ? [[helloPid, 'hello-world'] as [number, string]] : [])]);
  const cpu0 = cpuSnapshot(pids());
  const load = await runLoad({ url: helloUrl, connections: ctx.connections, amount, buyers: ctx.buyers, seckillGoodId: 1, uuidOf: uuidMaker(ctx.tag, 0) });
  const cpu = cpuBetween(cpu0, cpuSnapshot(pids()));
  ctx.log(`  hello-world: ${summary(load)}`);
  ctx.log(`    cpu (cores): ${formatCpu(cpu, { count: load.requests, unit: 'req' })}`);
  return { ...load, cpu };
}

// ---------------------------------------------------------------------------------------------------------
// 2. burst: many buyers, few units; most answers come from the sold-out sign.
// ---------------------------------------------------------------------------------------------------------

export interface BurstResult {
  sale: Sale;
  load: LoadResult;
  cpu: CpuUse;
  checks: Check[];
}

export async function burst(ctx: ScenarioContext, opts: { units: number; requests: number; url?: string; label?: string }): Promise<BurstResult> {
  await ctx.stack.startWorkers();
  const sale = await createSale(ctx.stack, ctx.adminToken, `burst ${ctx.tag}`, opts.units);
  const uuidOf = uuidMaker(ctx.tag, sale.id);
  const cpu0 = cpuSnapshot(ctx.stack.processes());
  const load = await runLoad({ url: opts.url ?? ctx.stack.apiUrl, connections: ctx.connections, amount: opts.requests, buyers: ctx.buyers, seckillGoodId: sale.id, uuidOf });
  const cpu = cpuBetween(cpu0, cpuSnapshot(ctx.stack.processes()));
  ctx.log(`  ${opts.label ?? 'burst'}: ${summary(load)}`);
  ctx.log(`    cpu (cores): ${formatCpu(cpu, { count: load.requests, unit: 'req' })}`);
  const queued = load.acceptedBuyers.map(uuidOf);
  await waitAtRest(ctx.stack, ctx.adminToken, sale, queued.length);
  const distinct = Math.min(opts.requests, ctx.buyers.length);
  const checks = [
    ...(await checkInvariants(ctx.stack, ctx.adminToken, sale, queued)),
    // Not an API invariant, a sanity check: with more distinct buyers than units, every unit is sold.
    { name: 'every unit sold', ok: queued.length === Math.min(opts.units, distinct), detail: `${queued.length} QUEUED for ${opts.units} units` },
  ];
  return { sale, load, cpu, checks };
}

/**
 * The same burst against one api process and against two forked on one port (SECKILL_API_PROCESSES=2), in
 * one run, in alternating order from run to run. CPU is not split here: the forked processes are not the
 * stack's children (their primary is).
 */
export async function apiProcesses(
  ctx: ScenarioContext,
  opts: { units: number; requests: number; twoUrl: string; run: number },
): Promise<{ one: BurstResult; two: BurstResult }> {
  const one = () => burst({ ...ctx, tag: `${ctx.tag}a1` }, { units: opts.units, requests: opts.requests, label: 'burst, 1 api process' });
  const two = () => burst({ ...ctx, tag: `${ctx.tag}a2` }, { units: opts.units, requests: opts.requests, url: opts.twoUrl, label: 'burst, 2 api processes' });
  if (opts.run % 2 === 1) {
    const a = await one();
    return { one: a, two: await two() };
  }
  const b = await two();
  return { one: await one(), two: b };
}

// ---------------------------------------------------------------------------------------------------------
// 3 + 4. accept path, then order creation on one hot good.
// ---------------------------------------------------------------------------------------------------------

export interface AcceptResult {
  sale: Sale;
  load: LoadResult;
  cpu: CpuUse;
  /** Raw confirmed publish of as many messages of the same size, same concurrency (services mode). */
  raw?: RawPublishResult;
  checks: Check[];
}

export interface HotResult {
  cpu: CpuUse;
  orders: number;
  seconds: number;
  rate: number;
  lastCommitToLastResultMs: number;
  workers: number;
  onePerTx?: OnePerTxResult;
  dbStage?: OnePerTxResult;
  checks: Check[];
}

export interface DrainWatch {
  /** Resolves when the sale's database stock has reached the target: the drain's span in epoch ms. */
  done: Promise<{ orders: number; startedAt: number; committedAt: number }>;
  /** The stock at which the drain is over, once it is known (after the load). */
  finishAt(stock: number): void;
}

/**
 * Polls one row (the good's stock) every few ms. The drain runs from the last sample that still saw the
 * starting stock to the first that saw the end: at most one poll interval too long at each end, so the
 * rate is, if anything, understated.
 */
export function watchDrain(sql: Sql, id: number, from: number, intervalMs = 10): DrainWatch {
  let to: number | null = null;
  const done = (async () => {
    let lastUnchanged = epochMs();
    for (;;) {
      const t = epochMs();
      const stock = Number((await sql.query<{ stock: number }>('SELECT stock FROM seckill_goods WHERE id = $1', [id]))[0]?.stock);
      if (stock >= from) lastUnchanged = t;
      if (to !== null && stock <= to) return { orders: from - to, startedAt: lastUnchanged, committedAt: epochMs() };
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return { done, finishAt: (stock) => void (to = stock) };
}

export async function acceptThenDrain(
  ctx: ScenarioContext,
  opts: {
    requests: number;
    onePerTx: number;
    onePerTxConcurrency: number;
    rawPublish: boolean;
    /** Also time the store alone on `orders` messages, as the worker batches them (services mode). */
    dbStage?: { orders: number; batchSize: number; concurrency: number };
  },
): Promise<{ accept: AcceptResult; hot: HotResult }> {
  const { stack } = ctx;
  if (opts.requests > ctx.buyers.length) throw new Error(`the accept path needs ${opts.requests} distinct buyers; seeded ${ctx.buyers.length}`);
  // Services: nobody drains while the queue fills, so the accept path is measured alone and the worker then
  // meets N orders already queued. Embedded: the worker is in the api's process and cannot be held back.
  const paused = stack.canPauseWorkers;
  if (paused) await stack.stopWorkers();
  const sale = await createSale(stack, ctx.adminToken, `accept ${ctx.tag}`, opts.requests);
  const uuidOf = uuidMaker(ctx.tag, sale.id);
  // Embedded: orders are made while the load runs, so the watch starts before it.
  let watch = paused ? null : watchDrain(stack.sql, sale.id, sale.stock);

  const cpu0 = cpuSnapshot(stack.processes());
  const load = await runLoad({ url: stack.apiUrl, connections: ctx.connections, amount: opts.requests, buyers: ctx.buyers, seckillGoodId: sale.id, uuidOf });
  const acceptCpu = cpuBetween(cpu0, cpuSnapshot(stack.processes()));
  ctx.log(`  accept: ${summary(load)}`);
  ctx.log(`    cpu (cores): ${formatCpu(acceptCpu, { count: load.requests, unit: 'req' })}`);
  const queued = load.acceptedBuyers.map(uuidOf);
  const acceptChecks = paused ? await checkQueuedNotDrained(stack, ctx.adminToken, sale, queued.length) : [];

  let raw: RawPublishResult | undefined;
  if (paused && opts.rawPublish) {
    const sample = queued.length > 0 ? load.acceptedBuyers[0]! : 0;
    const bytes = JSON.stringify({ uuid: uuidOf(sample), userId: ctx.buyers[sample]!.userId, seckillGoodId: sale.id, reservedAt: Date.now() }).length;
    raw = await rawConfirmedPublish(stack, opts.requests, ctx.connections, bytes);
    ctx.log(`  raw confirmed publish: ${raw.published} × ${bytes} B, ${ctx.connections} in flight: ${Math.round(raw.rate)} msg/s`);
    ctx.log(`    cpu (cores, with its start-up): ${formatCpu(raw.cpu, { count: raw.published, unit: 'msg' })}`);
  }

  let onePerTx: OnePerTxResult | undefined;
  let dbStage: OnePerTxResult | undefined;
  if (opts.onePerTx > 0 && paused) {
    // Measured before the workers start, with the machine as quiet as for the drain.
    const ids = ctx.buyers.map((b) => b.userId);
    onePerTx = await onePerTransaction(stack, ids, opts.onePerTx, opts.onePerTxConcurrency);
    ctx.log(`  one order per transaction: ${onePerTx.orders} orders, ${onePerTx.concurrency} at once: ${Math.round(onePerTx.rate)} orders/s`);
    if (opts.dbStage) {
      dbStage = await onePerTransaction(stack, ids, opts.dbStage.orders, opts.dbStage.concurrency, opts.dbStage.batchSize);
      ctx.log(`  database stage alone: ${dbStage.orders} orders in batches of ${dbStage.batchSize}, ${dbStage.concurrency} at once: ${Math.round(dbStage.rate)} orders/s`);
    }
  }

  let drainCpu0 = cpu0;
  const results = paused ? await watchResults(stack, sale.id, queued.length) : null;
  if (paused) {
    watch = watchDrain(stack.sql, sale.id, sale.stock);
    await stack.startWorkers();
    // From the moment the worker is up (its start-up is not the drain's).
    drainCpu0 = cpuSnapshot(stack.processes());
  }
  watch!.finishAt(sale.stock - queued.length);
  const committed = await watch!.done;
  // Over when the last order is committed and (services) its result announced, whichever is later.
  const announcedAt = results ? await results.done : committed.committedAt;
  await results?.close();
  const drainCpu = cpuBetween(drainCpu0, cpuSnapshot(stack.processes()));
  const seconds = (Math.max(committed.committedAt, announcedAt) - committed.startedAt) / 1000;
  const drain = { orders: committed.orders, seconds, rate: committed.orders / seconds, lastCommitToLastResultMs: announcedAt - committed.committedAt };
  await waitAtRest(stack, ctx.adminToken, sale, queued.length);
  const checks = await checkInvariants(stack, ctx.adminToken, sale, queued);
  ctx.log(
    `  hot good: ${drain.orders} orders in ${drain.seconds.toFixed(2)} s = ${Math.round(drain.rate)} orders/s (${stack.workersRunning()} worker process(es); ` +
      `last result announced ${Math.round(drain.lastCommitToLastResultMs)} ms after the last commit)`,
  );
  ctx.log(`    cpu (cores): ${formatCpu(drainCpu, { count: drain.orders, unit: 'order' })}`);

  if (!paused && opts.onePerTx > 0) {
    onePerTx = await onePerTransaction(stack, [], opts.onePerTx, 1);
    ctx.log(`  one order per transaction (PGlite in the bench process): ${Math.round(onePerTx.rate)} orders/s`);
  }
  return {
    accept: { sale, load, cpu: acceptCpu, ...(raw ? { raw } : {}), checks: acceptChecks },
    hot: {
      ...drain, cpu: drainCpu, workers: stack.workersRunning(), ...(onePerTx ? { onePerTx } : {}), ...(dbStage ? { dbStage } : {}),
      checks: [
        ...checks,
        ...(onePerTx?.checks.map((c) => ({ ...c, name: `baseline: ${c.name}` })) ?? []),
        ...(dbStage?.checks.map((c) => ({ ...c, name: `database stage: ${c.name}` })) ?? []),
      ],
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// 5. end to end: from the first request to the last result pushed over WebSocket.
// ---------------------------------------------------------------------------------------------------------

export interface EndToEndResult {
  sale: Sale;
  load: LoadResult;
  queued: number;
  sockets: number;
  /** Sampled buyers that were QUEUED (and so must get a frame). */
  sampledQueued: number;
  seconds: number;
  resultsPerSecond: number;
  /** Last push minus last QUEUED answer. */
  pushLagMs: number;
  cpu: CpuUse;
  checks: Check[];
}

export async function endToEnd(ctx: ScenarioContext, opts: { units: number; requests: number; sockets: number }): Promise<EndToEndResult> {
  const { stack } = ctx;
  await stack.startWorkers();
  const sale = await createSale(stack, ctx.adminToken, `e2e ${ctx.tag}`, opts.units);
  const uuidOf = uuidMaker(ctx.tag, sale.id);
  // Buyers are sent in index order, so the winners are about the first `units` of them: spread the sample
  // over that range (a little past it) so it holds the last winners too, whose results come last.
  const span = Math.min(opts.requests, ctx.buyers.length, opts.units + 2 * ctx.connections);
  const count = Math.min(opts.sockets, span);
  const indexes = [...new Set(Array.from({ length: count }, (_, k) => Math.floor(((k + 0.5) * span) / count)))];
  const sample = await openSockets(stack.wsUrl, ctx.buyers, indexes, uuidOf);
  try {
    const cpu0 = cpuSnapshot(stack.processes());
    const load = await runLoad({ url: stack.apiUrl, connections: ctx.connections, amount: opts.requests, buyers: ctx.buyers, seckillGoodId: sale.id, uuidOf });
    const accepted = new Set(load.acceptedBuyers);
    const expected = indexes.filter((i) => accepted.has(i));
    await sample.waitFor(expected, 60_000);
    const cpu = cpuBetween(cpu0, cpuSnapshot(stack.processes()));
    const lastPush = Math.max(...expected.map((i) => sample.frames.get(i)![0]!.at));
    const seconds = (lastPush - load.startedAt) / 1000;
    const pushLagMs = load.lastAcceptAt === null ? 0 : lastPush - load.lastAcceptAt;
    const queued = load.acceptedBuyers.map(uuidOf);
    await waitAtRest(stack, ctx.adminToken, sale, queued.length);
    await new Promise((r) => setTimeout(r, 200)); // a stray frame for a refused request would show by now
    const wrongFrames = expected.filter((i) => {
      const f = sample.frames.get(i)!;
      return f.length !== 1 || f[0]!.uuid !== uuidOf(i) || (f[0]!.status !== 'SUCCESS' && f[0]!.status !== 'FAIL');
    });
    const stray = indexes.filter((i) => !accepted.has(i) && sample.frames.get(i)!.length > 0);
    const checks = [
      ...(await checkInvariants(stack, ctx.adminToken, sale, queued)),
      { name: 'each sampled QUEUED buyer got its one result over WebSocket', ok: wrongFrames.length === 0, detail: `${expected.length} sampled QUEUED, ${wrongFrames.length} without exactly one frame` },
      { name: 'no result pushed for a refused request', ok: stray.length === 0, detail: `${indexes.length - expected.length} sampled refused, ${stray.length} got a frame` },
    ];
    const result: EndToEndResult = {
      sale, load, queued: queued.length, sockets: indexes.length, sampledQueued: expected.length,
      seconds, resultsPerSecond: queued.length / seconds, pushLagMs, cpu, checks,
    };
    ctx.log(`  end to end: ${queued.length} results, last pushed ${seconds.toFixed(2)} s after the first request (${Math.round(result.resultsPerSecond)} results/s), ${Math.round(pushLagMs)} ms after the last QUEUED; ${indexes.length} sockets`);
    ctx.log(`    cpu (cores): ${formatCpu(cpu, { count: load.requests, unit: 'req' })}`);
    return result;
  } finally {
    sample.close();
  }
}

// ---------------------------------------------------------------------------------------------------------

/** Let V8 compile the hot paths of both servers before anything is measured. */
export async function warmUp(ctx: ScenarioContext, helloUrl: string | null, amount: number): Promise<void> {
  const sale = await createSale(ctx.stack, ctx.adminToken, `warm-up ${ctx.tag}`, Math.max(1, Math.floor(amount / 10)));
  const uuidOf = uuidMaker(`${ctx.tag}w`, sale.id);
  const load = await runLoad({ url: ctx.stack.apiUrl, connections: ctx.connections, amount, buyers: ctx.buyers, seckillGoodId: sale.id, uuidOf });
  if (helloUrl) await runLoad({ url: helloUrl, connections: ctx.connections, amount, buyers: ctx.buyers, seckillGoodId: 1, uuidOf });
  await waitAtRest(ctx.stack, ctx.adminToken, sale, load.acceptedBuyers.length);
}
