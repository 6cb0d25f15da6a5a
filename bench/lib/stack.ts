/**
 * The system under test, started on isolated names and removed afterwards.
 *
 * services: one child per role — `api` (one, unless asked), `ws`, and `worker`s that can be stopped and
 *   started between scenarios (so the accept path can fill the queue with nobody draining it) — on a random
 *   PostgreSQL schema, Redis key prefix and RabbitMQ prefix, with one token secret for all.
 * embedded: one child with every role (that is what embedded means); its database is reached over IPC.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'amqplib';
import { migrate } from '../../src/adapters/database/migrate.ts';
import { createPgDatabase } from '../../src/adapters/database/pg-database.ts';
import { topologyNames } from '../../src/adapters/order-bus/rabbitmq-topology.ts';
import { dropRedisKeys, dropTopology } from '../../support/cleanup.ts';
import { spawnChild, urlsFromBanner, type Child } from './children.ts';

export type Mode = 'embedded' | 'services';

/** The database of the stack, for seeding and for checking invariants. */
export interface Sql {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface StackOptions {
  mode: Mode;
  /** Worker processes (services mode). */
  workers: number;
  /** Extra settings of every worker child (WORKER_CONCURRENCY …). */
  workerEnv?: Record<string, string>;
  /** Extra settings of the api child. */
  apiEnv?: Record<string, string>;
  /**
   * Services mode: run the roles from the build (`dist/main.js`, what `npm start` runs; build it first)
   * instead of the sources through tsx, whose loader thread adds its own memory and start-up to every child.
   */
  compiled?: boolean;
  /** Roles whose children are CPU-profiled (`--cpu-prof`), written into `profileDir`. */
  profile?: readonly string[];
  profileDir?: string;
  logLevel?: string;
  /** Prefix of the isolated names; default "bench". */
  namePrefix?: string;
}

export interface Stack {
  readonly mode: Mode;
  readonly apiUrl: string;
  readonly wsUrl: string;
  readonly secret: string;
  readonly sql: Sql;
  readonly adminPhone: string;
  readonly adminPassword: string;
  /** Only services mode can hold the workers back. */
  readonly canPauseWorkers: boolean;
  /** Isolated names (services mode), for the raw publish baseline's queue and for cleanup. */
  readonly names: { schema?: string; redisPrefix?: string; amqpPrefix?: string; amqpUrl?: string; databaseUrl?: string };
  workersRunning(): number;
  /** pid → role of the stack's child processes (for CPU accounting). */
  processes(): Map<number, string>;
  startWorkers(n?: number): Promise<void>;
  stopWorkers(): Promise<void>;
  /** Orders waiting in the pending queue, and the batch messages carrying them (services mode). */
  pendingCount(): Promise<{ orders: number; messages: number } | null>;
  /** One more api child with these settings (services mode, e.g. SECKILL_API_PROCESSES=2): its address. */
  startApi(env: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

export const SERVICE_DEFAULTS = {
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  amqpUrl: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
};

const ADMIN = { phone: '13800000000', password: 'bench-admin-pass' };

const mainScript = (opts: StackOptions) => (opts.compiled ? { script: 'dist/app/main.js', compiled: true } : { script: 'src/app/main.ts' });

export async function startStack(opts: StackOptions): Promise<Stack> {
  return opts.mode === 'services' ? startServices(opts) : startEmbedded(opts);
}

function commonEnv(opts: StackOptions, secret: string): Record<string, string> {
  return {
    SECKILL_TOKEN_SECRET: secret,
    SECKILL_ADMIN_PHONE: ADMIN.phone,
    SECKILL_ADMIN_PASSWORD: ADMIN.password,
    SECKILL_DEMO: 'false',
    LOG_LEVEL: opts.logLevel ?? 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    WS_PORT: '0',
    // The sockets scenario opens 10,000 sockets of one buyer on one push process.
    WS_MAX_SOCKETS_PER_USER: '1000000',
    // One api process unless a scenario asks for more (apiEnv); services mode would default to one per core.
    SECKILL_API_PROCESSES: '1',
    // Every simulated buyer presses from this one address: the per-address limit would stop the burst.
    SECKILL_IP_RATE_LIMIT_PER_S: '0',
  };
}

async function startServices(opts: StackOptions): Promise<Stack> {
  const id = randomBytes(4).toString('hex');
  const prefix = opts.namePrefix ?? 'bench';
  const schema = `${prefix}_${id}`;
  const redisPrefix = `${prefix}:${id}:`;
  const amqpPrefix = `${prefix}.${id}.`;
  const secret = randomBytes(32).toString('hex');
  const { databaseUrl, redisUrl, amqpUrl } = SERVICE_DEFAULTS;
  const env = {
    ...commonEnv(opts, secret),
    SECKILL_MODE: 'services',
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    AMQP_URL: amqpUrl,
    AMQP_PREFIX: amqpPrefix,
  };
  const children: Child[] = [];
  let workers: Child[] = [];
  let workerSeq = 0;
  const profiled = (role: string) => (opts.profile?.includes(role) && opts.profileDir ? { cpuProfDir: opts.profileDir } : {});

  const pg = await createPgDatabase({ url: databaseUrl, schema, max: 4 });
  const cleanup = async () => {
    await Promise.all([...workers, ...children].map((c) => c.stop()));
    await pg.dropSchema().catch(() => undefined);
    await pg.close().catch(() => undefined);
    await dropRedisKeys(redisUrl, redisPrefix).catch(() => undefined);
    await dropTopology(amqpUrl, amqpPrefix).catch(() => undefined);
  };

  try {
    // Migrate before the roles start, so the bench can seed while they boot.
    await migrate(pg);
    const start = async (name: string, roles: string, extra: Record<string, string> = {}) => {
      const child = spawnChild({ name: `${name}-${id}`, ...mainScript(opts), env: { ...env, SECKILL_ROLES: roles, ...extra }, ...profiled(roles) });
      return child;
    };
    const ws = await start('ws', 'ws');
    const api = await start('api', 'api', opts.apiEnv);
    children.push(ws, api);
    const [wsBanner, apiBanner] = await Promise.all([ws.ready, api.ready]);
    const apiUrl = urlsFromBanner(apiBanner).httpUrl;
    const wsUrl = urlsFromBanner(wsBanner).wsUrl;
    if (!apiUrl || !wsUrl) throw new Error('could not read the api / ws addresses from the banners');

    const stack: Stack = {
      mode: 'services',
      apiUrl,
      wsUrl,
      secret,
      sql: pg,
      adminPhone: ADMIN.phone,
      adminPassword: ADMIN.password,
      canPauseWorkers: true,
      names: { schema, redisPrefix, amqpPrefix, amqpUrl, databaseUrl },
      workersRunning: () => workers.length,
      processes: () =>
        new Map([...children, ...workers].flatMap((c) => (c.proc.pid ? [[c.proc.pid, c.name.replace(/\d*-[0-9a-f]+$/, '')] as [number, string]] : []))),
      async startWorkers(n = opts.workers) {
        const made: Child[] = [];
        for (let i = workers.length; i < n; i++) made.push(await start(`worker${++workerSeq}`, 'worker', opts.workerEnv));
        workers.push(...made);
        await Promise.all(made.map((w) => w.ready));
      },
      async stopWorkers() {
        const stopping = workers;
        workers = [];
        await Promise.all(stopping.map((w) => w.stop()));
      },
      async pendingCount() {
        const conn = await connect(amqpUrl);
        try {
          // Read every message without acking it; closing the connection puts them all back.
          const ch = await conn.createChannel();
          const queue = topologyNames(amqpPrefix).pendingQueue;
          let orders = 0;
          let messages = 0;
          for (let msg = await ch.get(queue, { noAck: false }); msg; msg = await ch.get(queue, { noAck: false })) {
            const body: unknown = JSON.parse(msg.content.toString('utf8'));
            orders += Array.isArray(body) ? body.length : 1;
            messages++;
          }
          return { orders, messages };
        } finally {
          await conn.close().catch(() => undefined);
        }
      },
      async startApi(extra) {
        const child = await start(`api${children.length}`, 'api', { ...opts.apiEnv, ...extra });
        children.push(child);
        const url = urlsFromBanner(await child.ready).httpUrl;
        if (!url) throw new Error('could not read the extra api address from its banner');
        return url;
      },
      close: cleanup,
    };
    await stack.startWorkers();
    return stack;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function startEmbedded(opts: StackOptions): Promise<Stack> {
  const id = randomBytes(4).toString('hex');
  const secret = randomBytes(32).toString('hex');
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-bench-'));
  const child = spawnChild({
    name: `embedded-${id}`,
    script: 'bench/lib/embedded-app.ts',
    env: { ...commonEnv(opts, secret), SECKILL_MODE: 'embedded', SECKILL_DATA_DIR: dataDir, ...opts.apiEnv, ...opts.workerEnv },
    ipc: true,
    ...(opts.profile?.length && opts.profileDir ? { cpuProfDir: opts.profileDir } : {}),
  });
  let seq = 0;
  const waiting = new Map<number, { resolve: (rows: unknown[]) => void; reject: (e: Error) => void }>();
  child.proc.on('message', (raw) => {
    const m = raw as { id: number; rows?: unknown[]; error?: string };
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(m.error));
    else w?.resolve(m.rows ?? []);
  });
  const call = (msg: object) =>
    new Promise<unknown[]>((resolve, reject) => {
      const idOf = ++seq;
      waiting.set(idOf, { resolve, reject });
      child.proc.send({ id: idOf, ...msg });
    });
  const sql: Sql = { query: <T>(text: string, params?: unknown[]) => call({ type: 'query', sql: text, params: params ?? [] }) as Promise<T[]> };
  const close = async () => {
    await child.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  };
  try {
    const banner = await child.ready;
    const { httpUrl, wsUrl } = urlsFromBanner(banner);
    if (!httpUrl || !wsUrl) throw new Error('could not read the embedded app addresses');
    return {
      mode: 'embedded',
      apiUrl: httpUrl,
      wsUrl,
      secret,
      sql,
      adminPhone: ADMIN.phone,
      adminPassword: ADMIN.password,
      canPauseWorkers: false,
      names: {},
      workersRunning: () => 1,
      processes: () => new Map(child.proc.pid ? [[child.proc.pid, 'app (all roles)']] : []),
      startWorkers: async () => undefined,
      stopWorkers: async () => undefined,
      pendingCount: async () => null,
      startApi: async () => {
        throw new Error('embedded mode runs one process: no second api');
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface ResultWatch {
  /** Resolves (epoch ms of the last one) once `expected` results of the sale were published. */
  done: Promise<number>;
  close(): Promise<void>;
}

/**
 * Counts the results of one sale on the result exchange (services mode), as the result push does: the
 * drain of the hot good is only over when the worker has announced every order, not when the last
 * transaction committed.
 */
export async function watchResults(stack: Stack, seckillGoodId: number, expected: number): Promise<ResultWatch | null> {
  const { amqpUrl, amqpPrefix } = stack.names;
  if (!amqpUrl || !amqpPrefix) return null;
  const conn = await connect(amqpUrl);
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
  await ch.bindQueue(queue, topologyNames(amqpPrefix).resultExchange, 'Order.*');
  let seen = 0;
  let resolveDone!: (at: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  if (expected === 0) resolveDone(performance.timeOrigin + performance.now());
  await ch.consume(
    queue,
    (msg) => {
      if (!msg) return;
      // One message per decided batch (a lone result from an older publisher counts as a batch of one).
      const body: unknown = JSON.parse(msg.content.toString('utf8'));
      for (const r of (Array.isArray(body) ? body : [body]) as { seckillGoodId?: number }[]) {
        if (r.seckillGoodId === seckillGoodId && ++seen === expected) resolveDone(performance.timeOrigin + performance.now());
      }
    },
    { noAck: true },
  );
  return { done, close: () => conn.close().catch(() => undefined) };
}
