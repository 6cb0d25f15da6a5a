/**
 * The services mode as it is deployed: every role a real child process (`node --import tsx src/app/main.ts`) on
 * one isolated namespace — 2 api (two ports), 2 worker, 2 push — plus, later, api processes forked on one
 * port (SECKILL_API_PROCESSES=2). A burst split across both api ports keeps every invariant, every result
 * reaches its socket on whichever push process holds it, a sold-out sign set in one api process is cleared
 * by a cancel served by the other, and SIGTERM in the middle of a burst loses nothing.
 * Every child is killed at the end, also when a test fails. Asserts no times.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { spawnChild, urlsFromBanner, type Child } from '../../bench/lib/children.ts';
import { createPgDatabase, type PgDatabase } from '../../src/adapters/database/pg-database.ts';
import { createSqlUserStore } from '../../src/adapters/user-store/sql-user-store.ts';
import { createTokenSigner } from '../../src/core/credentials.ts';
import { apiClient, mapLimit, newUuid, type ApiClient, TEST_ADMIN } from '../support/app.ts';
import { makeBuyers, type Buyer } from '../support/buyers.ts';
import { dropRedisKeys, dropTopology } from '../../support/cleanup.ts';
import { adminSales, waitFor } from '../support/sales.ts';
import { freePort, forkedPids } from '../support/processes.ts';
import { SERVICE_URLS, servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');

const BUYERS = 300;
const UNITS = 80;

describe.skipIf(!servicesUp)('many processes in services mode', () => {
  const id = randomBytes(4).toString('hex');
  const names = { schema: `t_mp_${id}`, redisPrefix: `t:mp:${id}:`, amqpPrefix: `t.mp.${id}.` };
  const secret = randomBytes(32).toString('hex');
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seckill-multi-process-'));
  const env: Record<string, string> = {
    SECKILL_MODE: 'services',
    DATABASE_URL: SERVICE_URLS.postgres,
    DATABASE_SCHEMA: names.schema,
    REDIS_URL: SERVICE_URLS.redis,
    REDIS_KEY_PREFIX: names.redisPrefix,
    AMQP_URL: SERVICE_URLS.rabbitmq,
    AMQP_PREFIX: names.amqpPrefix,
    SECKILL_TOKEN_SECRET: secret,
    SECKILL_ADMIN_PHONE: TEST_ADMIN.phone,
    SECKILL_ADMIN_PASSWORD: TEST_ADMIN.password,
    SECKILL_DEMO: 'false',
    // 300 buyers from one address: the limits have tests of their own.
    SECKILL_RATE_LIMIT_PER_S: '0',
    SECKILL_IP_RATE_LIMIT_PER_S: '0',
    SECKILL_AUTH_RATE_LIMIT_PER_MIN: '0',
    SECKILL_API_PROCESSES: '1',
    HOST: '127.0.0.1',
    PORT: '0',
    WS_PORT: '0',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  const children: Child[] = [];
  let db: PgDatabase;
  let buyers: Buyer[];
  let apis: ApiClient[];
  let wsUrls: string[];
  let adminToken = '';
  let sales: ReturnType<typeof adminSales>;

  async function start(name: string, roles: string, extra: Record<string, string> = {}): Promise<{ child: Child; httpUrl?: string; wsUrl?: string }> {
    const child = spawnChild({ name: `${name}-${id}`, script: 'src/app/main.ts', env: { ...env, SECKILL_ROLES: roles, ...extra }, readyTimeoutMs: 90_000 });
    children.push(child);
    return { child, ...urlsFromBanner(await child.ready) };
  }

  beforeAll(async () => {
    process.env.BENCH_LOG_DIR = logDir;
    // One process first, so the schema is migrated once before the others race to check it.
    const apiA = await start('api-a', 'api');
    const [apiB, wsA, wsB] = await Promise.all([start('api-b', 'api'), start('ws-a', 'ws'), start('ws-b', 'ws'), start('worker-a', 'worker'), start('worker-b', 'worker')]);
    expect(apiA.httpUrl).not.toBe(apiB.httpUrl);
    apis = [apiClient(apiA.httpUrl!), apiClient(apiB.httpUrl!)];
    wsUrls = [wsA.wsUrl!, wsB.wsUrl!];

    const login = await apis[0]!('POST', '/api/auth/login', { body: TEST_ADMIN });
    expect(login.status).toBe(200);
    adminToken = login.body.token;
    sales = adminSales(apis[0]!, () => adminToken);
    db = await createPgDatabase({ url: SERVICE_URLS.postgres, schema: names.schema, max: 4 });
    const signer = createTokenSigner(secret, 3600);
    buyers = await makeBuyers({ adapters: { users: createSqlUserStore(db) }, signer } as never, BUYERS);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(children.map((c) => c.stop(5_000)));
    await db?.dropSchema().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await dropRedisKeys(SERVICE_URLS.redis, names.redisPrefix).catch(() => undefined);
    await dropTopology(SERVICE_URLS.rabbitmq, names.amqpPrefix).catch(() => undefined);
    // KEEP_LOGS=1 keeps the children's logs (printed path) for a failed run.
    if (process.env.KEEP_LOGS) console.info(`child logs kept in ${logDir}`);
    else fs.rmSync(logDir, { recursive: true, force: true });
  }, 60_000);

  it(`${BUYERS} buyers over two api ports and two push processes: ${UNITS} orders, one result per QUEUED on its socket, invariants hold`, async () => {
    const goodId = await sales.sale(UNITS);
    // Both api processes warm (their database pools open, their code compiled) before the race, so neither
    // sells every unit while the other is still starting on a loaded machine.
    for (const api of apis) {
      for (const b of buyers.slice(0, 10)) expect((await api('GET', '/api/me', { token: b.token })).status).toBe(200);
      expect((await api('GET', `/api/seckill/goods/${goodId}`)).status).toBe(200);
    }
    // Every buyer opens a result socket first (on one push process or the other), then presses on one api or the other.
    const answers = await Promise.all(
      buyers.map(async (b, i) => {
        const uuid = newUuid();
        const socket = await openSocket(`${wsUrls[i % 2]}/${uuid}?token=${b.token}`);
        const via = Math.floor(i / 2) % 2; // api and push process vary independently
        const r = await apis[via]!('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: goodId, uuid } });
        return { b, uuid, socket, via, status: r.status, code: r.body?.error?.code as string | undefined };
      }),
    );
    const queued = answers.filter((a) => a.status === 200);
    expect(answers.every((a) => a.status === 200 || (a.status === 409 && a.code === 'SOLD_OUT'))).toBe(true);
    expect(queued.length).toBeGreaterThanOrEqual(UNITS);
    // Both api processes took buyers.
    expect(new Set(queued.map((q) => q.via)).size).toBe(2);

    // Every QUEUED request's socket gets its one frame, whichever push process holds it.
    const frames = await Promise.all(queued.map((q) => q.socket.firstFrame));
    for (const [i, f] of frames.entries()) expect(f).toMatchObject({ uuid: queued[i]!.uuid, seckillGoodId: goodId });
    expect(frames.filter((f) => f.status === 'SUCCESS')).toHaveLength(UNITS);
    for (const a of answers) a.socket.close();
    expect(answers.every((a) => a.socket.frames.length <= 1)).toBe(true);

    await sales.atRest(goodId);
    await expectInvariants(goodId, UNITS, queued.map((q) => q.uuid));
  }, 180_000);

  it('a sold-out sign set in one api process is cleared by a cancel served by the other', async () => {
    const goodId = await sales.sale(1);
    const [winner, loser] = [buyers[0]!, buyers[1]!];
    const [apiA, apiB] = apis as [ApiClient, ApiClient];
    const won = await apiA('POST', '/api/seckill/orders', { token: winner.token, body: { seckillGoodId: goodId, uuid: newUuid() } });
    expect(won.status).toBe(200);
    const result = await waitFor('the order', () => apiA('GET', `/api/seckill/results/${won.body.uuid}`, { token: winner.token }), (r) => r.body.status !== 'QUEUED');
    expect(result.body.status).toBe('SUCCESS');
    // Api A hears SOLD_OUT from the cache and sets its sign; from then on it answers without asking.
    expect((await apiA('POST', '/api/seckill/orders', { token: loser.token, body: { seckillGoodId: goodId, uuid: newUuid() } })).body.error.code).toBe('SOLD_OUT');

    // The winner cancels through api B: the unit returns, and "stock again" reaches api A.
    expect((await apiB('POST', `/api/orders/${result.body.orderNo}/cancel`, { token: winner.token })).status).toBe(200);
    const again = await waitFor(
      'api A to admit again',
      () => apiA('POST', '/api/seckill/orders', { token: loser.token, body: { seckillGoodId: goodId, uuid: newUuid() } }),
      (r) => r.status !== 409 || r.body.error.code !== 'SOLD_OUT',
    );
    expect(again.status).toBe(200);
    await sales.atRest(goodId);
  });

  describe('api processes forked on one port (SECKILL_API_PROCESSES=2)', () => {
    let forked: { child: Child; httpUrl?: string };
    let api: ApiClient;

    beforeAll(async () => {
      // A fixed port: with port 0, a restart after the last listening process died would get a new one.
      forked = await start('api-forked', 'api', { SECKILL_API_PROCESSES: '2', PORT: String(await freePort()) });
      api = apiClient(forked.httpUrl!);
      await waitFor('two forked api processes', async () => forkedPids(forked.child.proc.pid), (pids) => pids.length === 2);
    }, 120_000);

    it('a forked api process that dies is forked again, and the port keeps answering', async () => {
      const [victim] = forkedPids(forked.child.proc.pid);
      process.kill(victim!, 'SIGKILL');
      const pids = await waitFor('a new api process', async () => forkedPids(forked.child.proc.pid), (p) => p.length === 2 && !p.includes(victim!));
      expect(pids).not.toContain(victim);
      await waitFor('the port answering', () => api('GET', '/api/ready').catch(() => ({ status: 0 })), (r) => r.status === 200);
    });

    it('SIGTERM to the forked api and to a worker in the middle of a burst loses nothing', async () => {
      const goodId = await sales.sale(UNITS);
      const stopped: Promise<void>[] = [];
      let sent = 0;
      const answers = await mapLimit(buyers.slice(0, 200), 40, async (b) => {
        const uuid = newUuid();
        if (++sent === 60) stopped.push(forked.child.stop(), children.find((c) => c.name.startsWith('worker-a'))!.stop());
        const r = await api('POST', '/api/seckill/orders', { token: b.token, body: { seckillGoodId: goodId, uuid } }).catch(() => ({ status: 0, body: undefined }));
        return { b, uuid, status: r.status };
      });
      await Promise.all(stopped);
      expect(await forked.child.exited).toBe(0);
      const queued = answers.filter((a) => a.status === 200);
      // Refused while draining (503 or a closed connection): nothing taken. QUEUED: a result each, exactly one.
      expect(answers.every((a) => [200, 409, 503, 0].includes(a.status))).toBe(true);
      expect(queued.length).toBeGreaterThan(0);
      for (const q of queued) {
        const r = await waitFor('a result', () => apis[1]!('GET', `/api/seckill/results/${q.uuid}`, { token: q.b.token }), (x) => x.body.status !== 'QUEUED');
        expect(['SUCCESS', 'FAIL']).toContain(r.body.status);
      }
      await sales.atRest(goodId);
      await expectInvariants(goodId, UNITS, queued.map((q) => q.uuid));
    }, 120_000);
  });

  it('a namespace with classic queues refuses to start with AMQP_QUEUE_TYPE=quorum, naming the queue and the setting', async () => {
    const child = spawnChild({ name: `quorum-mismatch-${id}`, script: 'src/app/main.ts', env: { ...env, SECKILL_ROLES: 'worker', AMQP_QUEUE_TYPE: 'quorum' } });
    expect(await child.exited).not.toBe(0);
    const log = await waitFor('the start-up error in the log', async () => fs.readFileSync(path.join(logDir, `quorum-mismatch-${id}.log`), 'utf8'), (l) => l.includes('failed to start'));
    expect(log).toContain('AMQP_QUEUE_TYPE=quorum');
    expect(log).toMatch(new RegExp(`queue "${names.amqpPrefix.replace(/\./g, '\\.')}order\\.`));
  });

  /** Never oversold, one live order per buyer, stock conserved, one stored result per QUEUED request. */
  async function expectInvariants(goodId: number, initial: number, queuedUuids: string[]): Promise<void> {
    const [good] = await db.query<{ stock: number }>('SELECT stock FROM seckill_goods WHERE id = $1', [goodId]);
    const [live] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE seckill_good_id = $1 AND status IN ('UNPAID','PAID')`, [goodId]);
    expect(good!.stock).toBeGreaterThanOrEqual(0);
    expect(live!.n).toBeLessThanOrEqual(initial);
    expect(good!.stock + live!.n).toBe(initial);
    const twice = await db.query(`SELECT user_id FROM orders WHERE seckill_good_id = $1 AND status IN ('UNPAID','PAID') GROUP BY user_id HAVING count(*) > 1`, [goodId]);
    expect(twice).toEqual([]);
    const results = await db.query<{ uuid: string }>('SELECT uuid FROM seckill_results WHERE uuid = ANY($1)', [queuedUuids]);
    expect(results.length).toBe(queuedUuids.length);
    const stats = await sales.stats(goodId);
    expect(stats).toMatchObject({ stock: good!.stock, preStock: good!.stock, queued: 0 });
  }
});


interface ResultSocket {
  frames: any[];
  firstFrame: Promise<any>;
  close(): void;
}

function openSocket(url: string): Promise<ResultSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const frames: any[] = [];
    let first: (f: any) => void = () => undefined;
    const firstFrame = new Promise<any>((r) => (first = r));
    socket.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString('utf8'));
      frames.push(frame);
      first(frame);
    });
    socket.once('open', () => resolve({ frames, firstFrame, close: () => socket.close() }));
    socket.once('error', reject);
  });
}
