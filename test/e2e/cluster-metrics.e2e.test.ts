/**
 * One scrape answers for every api process forked on one port (SECKILL_API_PROCESSES=2, services mode, a real
 * child process as deployed): requests spread over both forks by fresh connections are all counted by every
 * scrape, whichever fork takes it, on PORT and on the primary's METRICS_PORT alike; the counts never go
 * down; the primary's own role (ws) is counted once; a fork, or the primary, that does not answer in time
 * does not hold the scrape up, and the answer says so. Asserts no times beyond the scrape deadline.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { spawnChild, type Child } from '../../bench/lib/children.ts';
import { dropRedisKeys, dropTopology } from '../../support/cleanup.ts';
import { apiClient, newUuid, TEST_ADMIN } from '../support/app.ts';
import { waitFor } from '../support/sales.ts';
import { freePort, forkedPids } from '../support/processes.ts';
import { SERVICE_URLS, servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');

const GETS = 50;
const GOODS_COUNT = { name: 'seckill_http_request_duration_seconds_count', labels: { method: 'GET', route: '/api/seckill/goods', status: '200' } };

describe.skipIf(!servicesUp)('one scrape answers for every api process forked on one port', () => {
  const id = randomBytes(4).toString('hex');
  const names = { schema: `t_cm_${id}`, redisPrefix: `t:cm:${id}:`, amqpPrefix: `t.cm.${id}.` };
  const metricsToken = randomBytes(16).toString('hex');
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seckill-cluster-metrics-'));
  let child: Child;
  let ports: { http: number; ws: number; metrics: number };
  const scrapeUrls = () => [`http://127.0.0.1:${ports.http}/metrics`, `http://127.0.0.1:${ports.metrics}/metrics`];

  beforeAll(async () => {
    process.env.BENCH_LOG_DIR = logDir;
    ports = { http: await freePort(), ws: await freePort(), metrics: await freePort() };
    child = spawnChild({
      name: `cluster-metrics-${id}`,
      script: 'src/app/main.ts',
      readyTimeoutMs: 90_000,
      env: {
        SECKILL_MODE: 'services',
        DATABASE_URL: SERVICE_URLS.postgres,
        DATABASE_SCHEMA: names.schema,
        REDIS_URL: SERVICE_URLS.redis,
        REDIS_KEY_PREFIX: names.redisPrefix,
        AMQP_URL: SERVICE_URLS.rabbitmq,
        AMQP_PREFIX: names.amqpPrefix,
        SECKILL_TOKEN_SECRET: randomBytes(32).toString('hex'),
        SECKILL_ADMIN_PHONE: TEST_ADMIN.phone,
        SECKILL_ADMIN_PASSWORD: TEST_ADMIN.password,
        SECKILL_PASSWORD_ARGON2_MEMORY_KIB: '1024',
        SECKILL_PASSWORD_ARGON2_TIME: '1',
        SECKILL_DEMO: 'false',
        // The primary runs the push role itself; the api role runs in the two forks.
        SECKILL_ROLES: 'api,ws',
        SECKILL_API_PROCESSES: '2',
        METRICS_TOKEN: metricsToken,
        HOST: '127.0.0.1',
        PORT: String(ports.http),
        WS_PORT: String(ports.ws),
        METRICS_PORT: String(ports.metrics),
        // 'info' for fastify's "Server listening" line of each fork; no request is logged.
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
      },
    });
    await child.ready;
    // Both forks serving, not only the first one up: else every connection would go to that one.
    await waitFor('both forked api processes listening', async () => listeningPids(), (pids) => pids.size === 2, 90_000);
  }, 180_000);

  afterAll(async () => {
    for (const pid of child ? forkedPids(child.proc.pid) : []) signal(pid, 'SIGCONT');
    await child?.stop(10_000);
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: SERVICE_URLS.postgres });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${names.schema}" CASCADE`).catch(() => undefined);
    await client.end();
    await dropRedisKeys(SERVICE_URLS.redis, names.redisPrefix).catch(() => undefined);
    await dropTopology(SERVICE_URLS.rabbitmq, names.amqpPrefix).catch(() => undefined);
    if (process.env.KEEP_LOGS) console.info(`child logs kept in ${logDir}`);
    else fs.rmSync(logDir, { recursive: true, force: true });
  }, 60_000);

  it(`${GETS} GETs over fresh connections: every scrape, on either port, counts all ${GETS}, and no count goes down`, async () => {
    for (let i = 0; i < GETS; i++) expect((await get(`http://127.0.0.1:${ports.http}/api/seckill/goods`)).status).toBe(200);

    // The last answer's count lands just after the answer itself: wait for it once, then every scrape must agree.
    const scrapesOfMetrics: number[] = [];
    await waitFor('a scrape counting every GET', () => scrape(scrapeUrls()[0]!), (text) => valueOf(text, GOODS_COUNT) === GETS, 10_000);
    for (let i = 0; i < 8; i++) {
      const text = await scrape(scrapeUrls()[i % 2]!);
      expect(valueOf(text, GOODS_COUNT)).toBe(GETS);
      // The primary and both forks, every one of them this time.
      expect(valueOf(text, { name: 'seckill_scrape_processes', labels: { state: 'answered' } })).toBe(3);
      expect(valueOf(text, { name: 'seckill_scrape_processes', labels: { state: 'missing' } })).toBe(0);
      scrapesOfMetrics.push(valueOf(text, { name: GOODS_COUNT.name, labels: { method: 'GET', route: '/metrics', status: '200' } }) ?? 0);
    }
    // Scrapes on PORT are requests too: counted, and never fewer than the scrape before saw.
    for (let i = 1; i < scrapesOfMetrics.length; i++) expect(scrapesOfMetrics[i]).toBeGreaterThanOrEqual(scrapesOfMetrics[i - 1]!);
    expect(scrapesOfMetrics.at(-1)).toBeGreaterThan(scrapesOfMetrics[0]!);
  }, 60_000);

  it('the token guards both ports', async () => {
    for (const url of scrapeUrls()) {
      expect((await get(url)).status).toBe(401);
      expect((await get(url, { authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
    }
  });

  it("the primary's own role is counted once: one socket held on its push port reads 1", async () => {
    const api = apiClient(`http://127.0.0.1:${ports.http}`);
    const token = (await api('POST', '/api/auth/login', { body: TEST_ADMIN })).body.token as string;
    const socket = new WebSocket(`ws://127.0.0.1:${ports.ws}/${newUuid()}?token=${token}`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    try {
      for (const url of scrapeUrls()) {
        const text = await waitFor('the socket counted', () => scrape(url), (t) => valueOf(t, { name: 'seckill_ws_sockets', labels: {} }) !== 0);
        expect(valueOf(text, { name: 'seckill_ws_sockets', labels: {} })).toBe(1);
      }
    } finally {
      socket.close();
    }
  });

  it('a forked process that does not answer: the scrape still answers in time, with its last figures, and names it', async () => {
    const [frozen] = forkedPids(child.proc.pid);
    signal(frozen!, 'SIGSTOP');
    try {
      // Only the primary's port: a connection on PORT may be handed to the frozen process itself.
      const started = Date.now();
      const text = await scrape(scrapeUrls()[1]!);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(valueOf(text, { name: 'seckill_scrape_processes', labels: { state: 'late' } })).toBe(1);
      expect(valueOf(text, { name: 'seckill_scrape_processes', labels: { state: 'answered' } })).toBe(2);
      expect(text).toContain(`pid ${frozen}`);
      // Its figures as it last gave them: the GETs it served still count.
      expect(valueOf(text, GOODS_COUNT)).toBe(GETS);
    } finally {
      signal(frozen!, 'SIGCONT');
    }
    const after = await waitFor('every process answering again', () => scrape(scrapeUrls()[1]!), (t) => valueOf(t, { name: 'seckill_scrape_processes', labels: { state: 'answered' } }) === 3);
    expect(valueOf(after, GOODS_COUNT)).toBe(GETS);
  }, 60_000);

  it("a primary that does not answer: the fork says so and answers with its own figures, not an error", async () => {
    // A connection kept open to one fork: a frozen primary hands out no new ones.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await get(scrapeUrls()[0]!, { authorization: `Bearer ${metricsToken}` }, agent)).status).toBe(200);
      signal(child.proc.pid!, 'SIGSTOP');
      let r: { status: number; body: string };
      try {
        r = await get(scrapeUrls()[0]!, { authorization: `Bearer ${metricsToken}` }, agent);
      } finally {
        signal(child.proc.pid!, 'SIGCONT');
      }
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/the primary process gave no sum within \d+ ms; these are the figures of api process pid \d+ alone/);
      expect(valueOf(r.body, { name: 'seckill_scrape_processes', labels: { state: 'missing' } })).toBe(1);
      expect(valueOf(r.body, GOODS_COUNT)).toBeLessThan(GETS);
    } finally {
      agent.destroy();
    }
  }, 30_000);

  /** The forks whose HTTP server listens, from their log lines. */
  function listeningPids(): Set<number> {
    const log = fs.readFileSync(path.join(logDir, `${child.name}.log`), 'utf8');
    const pids = new Set<number>();
    for (const line of log.split('\n')) if (line.includes('Server listening at')) pids.add((JSON.parse(line) as { pid: number }).pid);
    return pids;
  }

  /** A scrape over a connection of its own, so that scrapes on PORT land on one fork, then the other. */
  async function scrape(url: string): Promise<string> {
    const r = await get(url, { authorization: `Bearer ${metricsToken}` });
    expect(r.status).toBe(200);
    return r.body;
  }
});

/** GET, by default on a fresh connection (no keep-alive agent): the primary hands each connection to the next fork. */
function get(url: string, headers: Record<string, string> = {}, agent: http.Agent | false = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers, timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
  });
}

/** The value of the one sample of `name` whose labels are exactly `labels`; undefined when there is none. */
function valueOf(text: string, want: { name: string; labels: Record<string, string> }): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== want.name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    const keys = Object.keys(labels);
    if (keys.length === Object.keys(want.labels).length && keys.every((k) => labels[k] === want.labels[k])) return Number(m[3]);
  }
  return undefined;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

