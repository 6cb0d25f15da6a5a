/**
 * The observability kit in ops/ against what a running app serves at /metrics: every metric name the
 * Grafana dashboard and the Prometheus alert rules use must exist, so the kit cannot drift from the code.
 * And a process without the api role (worker, ws) can be scraped on METRICS_PORT.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/app/config.ts';
import { startApp, type RunningApp } from '../../src/app/compose.ts';
import { apiClient, bootTestApp, newUuid, type TestApp, loginAdmin } from '../support/app.ts';
import { makeBuyers } from '../support/buyers.ts';

const OPS = fileURLToPath(new URL('../../ops/', import.meta.url));
const dashboard = JSON.parse(readFileSync(path.join(OPS, 'grafana', 'seckill-dashboard.json'), 'utf8'));
const rules = parseYaml(readFileSync(path.join(OPS, 'prometheus', 'seckill-alerts.yml'), 'utf8'));
const scrape = parseYaml(readFileSync(path.join(OPS, 'prometheus', 'prometheus.yml'), 'utf8'));

/** Every series name a Prometheus text exposition can hold: histograms add _bucket, _sum and _count. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!m) continue;
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

const usedNames = (exprs: string[]) => new Set(exprs.flatMap((e) => e.match(/\bseckill_[a-z0-9_]+/g) ?? []));

function dashboardExprs(): string[] {
  const panels: any[] = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
  return panels.flatMap((p) => (p.targets ?? []).map((t: any) => t.expr as string));
}

function ruleExprs(): string[] {
  return rules.groups.flatMap((g: any) => g.rules.map((r: any) => r.expr as string));
}

describe('the observability kit in ops/', () => {
  let app: TestApp;
  let exposed: Set<string>;

  beforeAll(async () => {
    app = await bootTestApp('embedded', { METRICS_PORT: '0' });
    // One sale, so that labelled series have samples too (not only their TYPE lines).
    const api = apiClient(app.httpUrl);
    const admin = await loginAdmin(api);
    const now = Date.now();
    const sale = await api('POST', '/api/admin/seckill/goods', {
      token: admin,
      body: { name: 'metrics', price: 100, seckillPrice: 1, stock: 1, startAt: new Date(now - 60_000).toISOString(), endAt: new Date(now + 3_600_000).toISOString() },
    });
    const [buyer] = await makeBuyers(app, 1);
    await api('POST', '/api/seckill/orders', { token: buyer!.token, body: { seckillGoodId: sale.body.id, uuid: newUuid() } });
    const text = await (await fetch(`${app.httpUrl}/metrics`)).text();
    exposed = exposedNames(text);
    // The metrics port serves the same registry.
    expect(exposedNames(await (await fetch(`${app.metricsUrl}/metrics`)).text())).toEqual(exposed);
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  it('the app exposes what the kit is about: requests, answers by status, orders, queue depths, pushes, sockets, repairs, event-loop lag, latency', () => {
    for (const name of [
      'seckill_requests_total',
      'seckill_http_request_duration_seconds_bucket',
      'seckill_worker_results_total',
      'seckill_worker_batch_size_bucket',
      'seckill_bus_queue_messages',
      'seckill_ws_results_pushed_total',
      'seckill_ws_sockets',
      'seckill_reconciler_repairs_total',
      'seckill_process_nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(exposed).toContain(name);
    }
  });

  it('every metric the Grafana dashboard queries exists in /metrics', () => {
    const used = usedNames(dashboardExprs());
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((n) => !exposed.has(n))).toEqual([]);
  });

  it('every metric the alert rules use exists in /metrics; every rule has a severity and a summary', () => {
    const used = usedNames(ruleExprs());
    expect(used.size).toBeGreaterThan(4);
    expect([...used].filter((n) => !exposed.has(n))).toEqual([]);
    for (const group of rules.groups) {
      for (const rule of group.rules) {
        expect(rule).toMatchObject({ alert: expect.any(String), expr: expect.any(String), labels: { severity: expect.any(String) }, annotations: { summary: expect.any(String) } });
      }
    }
    // promtool (Prometheus' own checker) parses every expression, where it is installed.
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
    if (promtool) execFileSync(promtool, ['check', 'rules', path.join(OPS, 'prometheus', 'seckill-alerts.yml')], { stdio: 'pipe' });
  });

  it('the scrape example has a job per role, each with the bearer token, and loads the rules', () => {
    expect(scrape.rule_files).toContain('seckill-alerts.yml');
    const jobs = scrape.scrape_configs.map((j: any) => j.job_name);
    expect(jobs).toEqual(['seckill-api', 'seckill-worker', 'seckill-ws']);
    for (const job of scrape.scrape_configs) expect(job.authorization).toMatchObject({ type: 'Bearer', credentials_file: expect.any(String) });
  });

  it('queue depths show the orders waiting for a worker, broker-wide', async () => {
    const text = await (await fetch(`${app.httpUrl}/metrics`)).text();
    for (const queue of ['pending_orders', 'dead_orders', 'pay_timers', 'due_timeouts', 'dead_timeouts', 'alerts']) {
      expect(text).toMatch(new RegExp(`^seckill_bus_queue_messages\\{queue="${queue}"\\} \\d+$`, 'm'));
    }
  });
});

describe('a worker and push process without the api', () => {
  let app: RunningApp;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-metrics-port-'));
    const config = loadConfig({
      SECKILL_DATA_DIR: dataDir,
      SECKILL_ROLES: 'worker,ws',
      WS_PORT: '0',
      METRICS_PORT: '0',
      METRICS_TOKEN: 'scrape-token-0123456789',
      SECKILL_ADMIN_PASSWORD: 'admin-pass-123',
    });
    app = await startApp(config, pino({ level: 'silent' }));
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('serves /metrics on METRICS_PORT, only with its bearer token; nothing else there', async () => {
    expect(app.httpUrl).toBeUndefined();
    expect(app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const unauthorized = await fetch(`${app.metricsUrl}/metrics`);
    expect(unauthorized.status).toBe(401);
    expect((await unauthorized.json()).error.code).toBe('UNAUTHORIZED');

    const ok = await fetch(`${app.metricsUrl}/metrics`, { headers: { authorization: 'Bearer scrape-token-0123456789' } });
    expect(ok.status).toBe(200);
    const text = await ok.text();
    expect(text).toMatch(/^seckill_bus_queue_messages\{queue="pending_orders"\} 0$/m);
    expect(text).toMatch(/^seckill_ws_sockets 0$/m);

    const other = await fetch(`${app.metricsUrl}/api/health`);
    expect(other.status).toBe(404);
    expect((await other.json()).error.code).toBe('NOT_FOUND');
  });
});
