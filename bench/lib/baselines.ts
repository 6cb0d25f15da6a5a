/**
 * Baselines measured in the same run as the scenario they judge:
 *  - hello-world: a bare fastify in its own process (bench/lib/hello-server.ts), same load generator;
 *  - raw confirmed publish: amqplib alone in its own process (bench/lib/raw-publish.ts);
 *  - one order per transaction: the product's own SQL store, each message alone (one transaction each),
 *    as many at once as the worker has connections — what batching is measured against.
 */
import { logDir, spawnChild, type Child } from './children.ts';
import { randomBytes } from 'node:crypto';
import { makeOrderNo } from '../../src/core/create-orders.ts';
import type { OrderMessage } from '../../src/core/model.ts';
import type { Database } from '../../src/adapters/database/database.ts';
import { createPgDatabase } from '../../src/adapters/database/pg-database.ts';
import { createPgliteDatabase } from '../../src/adapters/database/pglite-database.ts';
import { migrate } from '../../src/adapters/database/migrate.ts';
import { createSqlOrderStore } from '../../src/adapters/order-store/sql-order-store.ts';
import { cpuBetween, cpuSnapshot, type CpuUse } from './cpu.ts';
import { checkStoreOnly, type Check } from './invariants.ts';
import type { Stack } from './stack.ts';

export interface HelloServer {
  url: string;
  child: Child;
}

export async function startHello(profileDir?: string): Promise<HelloServer> {
  const child = spawnChild({
    name: `hello-${randomBytes(3).toString('hex')}`,
    script: 'bench/lib/hello-server.ts',
    env: { PORT: '0' },
    readyText: 'hello ready',
    ...(profileDir ? { cpuProfDir: profileDir } : {}),
  });
  const banner = await child.ready;
  // The line may still be arriving in pieces: wait for its end.
  const url = /hello ready (http:\/\/[0-9.:]+)/.exec(banner)?.[1] ?? (await new Promise<string>((resolve) => {
    let text = banner;
    child.proc.stdout!.on('data', (c: Buffer) => {
      text += c.toString();
      const m = /hello ready (http:\/\/[0-9.:]+)\n/.exec(text);
      if (m) resolve(m[1]!);
    });
  }));
  return { url, child };
}

export interface RawPublishResult {
  /** Includes the child's start-up (about a second of one core). */
  cpu: CpuUse;
  published: number;
  seconds: number;
  rate: number;
}

export async function rawConfirmedPublish(stack: Stack, count: number, concurrency: number, bytes: number): Promise<RawPublishResult> {
  const { amqpUrl, amqpPrefix } = stack.names;
  if (!amqpUrl || !amqpPrefix) throw new Error('raw publish needs RabbitMQ (services mode)');
  const child = spawnChild({
    name: `raw-publish-${randomBytes(3).toString('hex')}`,
    script: 'bench/lib/raw-publish.ts',
    env: {},
    args: [amqpUrl, `${amqpPrefix}bench.raw`, String(count), String(concurrency), String(bytes)],
    readyText: '"rate"',
    readyTimeoutMs: 300_000,
  });
  const pids = () => new Map([...stack.processes(), ...(child.proc.pid ? [[child.proc.pid, 'raw publisher'] as [number, string]] : [])]);
  const cpu0 = cpuSnapshot(pids());
  await child.ready;
  const cpu = cpuBetween(cpu0, cpuSnapshot(pids()));
  const code = await child.exited;
  const line = child.stdout().split('\n').find((l) => l.includes('"rate"'));
  if (code !== 0 || !line) throw new Error(`raw publish failed (exit ${code}); see ${logDir()}`);
  return { ...(JSON.parse(line) as Omit<RawPublishResult, 'cpu'>), cpu };
}

export interface OnePerTxResult {
  batchSize: number;
  orders: number;
  seconds: number;
  rate: number;
  concurrency: number;
  checks: Check[];
}

/**
 * `orders` buyers each get one order of a fresh good, one `createOrders([message])` — one transaction —
 * each, `concurrency` at once (the worker's pool size). Services mode: on the stack's own schema.
 * Embedded mode: a fresh in-memory PGlite in this process (one connection, so concurrency is 1).
 * With `batchSize` > 1 the same messages go `batchSize` to a call instead: the database stage of the worker
 * alone (no queue, no cache, no result messages).
 */
export async function onePerTransaction(
  stack: Stack,
  buyerIds: readonly number[],
  orders: number,
  concurrency: number,
  batchSize = 1,
): Promise<OnePerTxResult> {
  let db: Database;
  let users: readonly number[];
  if (stack.mode === 'services') {
    db = await createPgDatabase({ url: stack.names.databaseUrl!, schema: stack.names.schema!, max: concurrency });
    users = buyerIds.slice(0, orders);
  } else {
    db = await createPgliteDatabase();
    await migrate(db);
    const rows = await db.query<{ id: number }>(
      `INSERT INTO users (phone, nickname, password_hash, role)
       SELECT '16' || lpad(g::text, 9, '0'), 'tx-' || g, 'bench:no-login', 'user' FROM generate_series(1, $1::int) g RETURNING id`,
      [orders],
    );
    users = rows.map((r) => Number(r.id));
    concurrency = 1;
  }
  try {
    const store = createSqlOrderStore(db);
    const now = new Date();
    const good = await store.createGood({
      name: 'one-per-transaction baseline', title: '', imageUrl: '', price: 10_000, seckillPrice: 100,
      stock: orders, startAt: new Date(now.getTime() - 60_000), endAt: new Date(now.getTime() + 3_600_000),
    });
    const tag = randomBytes(3).toString('hex');
    const messages: OrderMessage[] = users.map((userId, i) => ({ uuid: `tx${tag}x${i}`, userId, seckillGoodId: good.id, reservedAt: now.getTime() }));
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < messages.length) {
          const batch = messages.slice(next, (next += batchSize));
          await store.createOrders(batch, { now: new Date(), payTimeoutMs: 900_000, makeOrderNo: () => makeOrderNo() });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const checks = await checkStoreOnly(db, good.id, messages.length);
    return { batchSize, orders: messages.length, seconds, rate: messages.length / seconds, concurrency, checks };
  } finally {
    await db.close();
  }
}
