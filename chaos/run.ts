/**
 * npm run chaos [-- --short] [--freeze] [--hosts] [--seed N] [--buyers N] [--keep]
 *
 * A services-mode deployment (2 api, 2 worker and 1 push process under a supervisor that restarts what
 * exits; the second api process forks two as in services mode) on PostgreSQL, Redis and RabbitMQ instances
 * of its own, buyers pressing buy, paying and cancelling on three sales (two that sell out, one with more
 * units than buyers), and a seeded schedule of faults: kill -9 of every role, RabbitMQ restarts, Redis
 * outages (≥ 5 s) and flushes, PostgreSQL outages (≥ 30 s) and crashes (immediate stop), every role and
 * every service frozen (SIGSTOP … SIGCONT, past the reconciler's grace period), duplicate deliveries and
 * lost pay-timeout messages. Once everything has settled, a checker holds the database, the cache and every
 * buyer's history to the invariants. Exit code 1 on any violation, or when a planned fault never fired.
 *
 * --short: one fault of each kind (CI runs it after the test suite); the full run fires 10 of each.
 * --freeze: only the freezes and the PostgreSQL crash.
 * --hosts: every process on a simulated host of its own (lib/hosts.ts, lib/on-hosts.ts) and every engine a
 * cluster of nodes on hosts of their own (lib/engine-clusters.ts: PostgreSQL under pg_auto_failover, three
 * RabbitMQ nodes, a Redis Cluster of 3 + 3), with partitions between hosts, the engines' failovers (a PostgreSQL
 * primary, a RabbitMQ node or a Redis master killed; a RabbitMQ node or the PostgreSQL primary cut off), the
 * kills and the message faults (5 of each; --short: 1).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBuyers } from './lib/buyers.ts';
import { check } from './lib/checker.ts';
import { renderReport } from './lib/report-html.ts';
import { assertTap, fire, type FiredFault } from './lib/faults.ts';
import { engineLogTails, startEngineClusters } from './lib/engine-clusters.ts';
import { addressOf, attachedNetwork, placeRoles, runOnHosts } from './lib/on-hosts.ts';
import { freePort, privatePostgres, privateRabbit, privateRedis } from './lib/private-services.ts';
import { seededRandom } from './lib/random.ts';
import { describePlan, FAULT_KINDS, FREEZES, HOSTS_KINDS, OUTAGES, planFaults, type FaultKind, type PlannedFault } from './lib/schedule.ts';
import { shopClient } from './lib/shop-client.ts';
import { createSales, loginAdmin, registerBuyers, type Sale } from './lib/shop-setup.ts';
import { describeSales, query, repairsFromLogs, settle } from './lib/settle.ts';
import { supervise, type RoleSpec } from './lib/supervisor.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started = Date.now();
const t = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`;
const say = (line: string) => process.stdout.write(`${t()}  ${line}\n`);

const { values: args } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    seed: { type: 'string' },
    buyers: { type: 'string' },
    keep: { type: 'boolean', default: false },
    freeze: { type: 'boolean', default: false },
    hosts: { type: 'boolean', default: false },
  },
});
const kinds: readonly FaultKind[] = args.freeze ? [...FREEZES, 'postgres-crash'] : args.hosts ? HOSTS_KINDS : FAULT_KINDS;
const seed = args.seed !== undefined ? Number(args.seed) : Math.floor(Math.random() * 2 ** 31);
const perKind = args.short ? 1 : args.hosts ? 5 : 10;
/** Inside the driver host of a --hosts run: the simulated hosts. */
const network = attachedNetwork();
const ROLES = ['api-1', 'api-2', 'worker-1', 'worker-2', 'ws-1'];
const buyerCount = Number(args.buyers ?? (args.short ? 120 : 200));
const PAY_TIMEOUT_MS = 8000;
const WAVE_MS = 75_000;
const ADMIN = { phone: '13800000000', password: 'chaos-admin-Xk29-pw' };
const TOKEN_SECRET = 'chaos-run-token-secret-0123456789abcdef';

async function main(): Promise<number> {
  const random = seededRandom(seed);
  const plan = planFaults(random, perKind, { kinds });
  say(`seckill chaos run, seed ${seed} (replay: npm run chaos --${args.short ? ' --short' : ''}${args.freeze ? ' --freeze' : ''}${args.hosts ? ' --hosts' : ''} --seed ${seed}), ${buyerCount} buyers`);
  process.stdout.write(`schedule:\n${describePlan(plan)}\n`);

  const dir = mkdtempSync(path.join(network?.dir ?? os.tmpdir(), `seckill-chaos-${seed}-`));
  chmodSync(dir, 0o755);
  const logDir = path.join(dir, 'logs');
  mkdirSync(logDir);
  say(`private services and logs in ${dir}`);
  // On simulated hosts every engine is a cluster that fails over by itself; on one host, single instances.
  const clusters = network ? await startEngineClusters(network, path.join(dir, 'engines'), say).catch((err: unknown) => {
    say(engineLogTails(path.join(dir, 'engines')));
    throw err;
  }) : undefined;
  const services = clusters ? undefined : await Promise.all([privatePostgres(path.join(dir, 'postgres')), privateRedis(path.join(dir, 'redis')), privateRabbit(dir)]).then(([postgres, redis, rabbit]) => ({ postgres, redis, rabbit }));
  const databaseUrl = clusters?.postgres.url ?? services!.postgres.url;
  const brokerUrls = clusters?.rabbit.urls ?? [services!.rabbit.url];
  if (services) say(`PostgreSQL ${services.postgres.url}, Redis ${services.redis.url}, RabbitMQ ${services.rabbit.url}`);
  const engineEnv: Record<string, string> = clusters
    ? {
        DATABASE_URL: clusters.postgres.url,
        REDIS_CLUSTER_NODES: clusters.redis.nodes,
        AMQP_URL: clusters.rabbit.url,
        AMQP_QUEUE_TYPE: 'quorum',
        AMQP_STATS_INTERVAL_MS: String(clusters.rabbit.statsIntervalMs),
      }
    : {
        DATABASE_URL: services!.postgres.url,
        REDIS_URL: services!.redis.url,
        AMQP_URL: services!.rabbit.url,
        AMQP_MANAGEMENT_URL: services!.rabbit.managementUrl,
        AMQP_STATS_INTERVAL_MS: String(services!.rabbit.statsIntervalMs),
      };

  const [apiPorts, wsPort] = [[await freePort(), await freePort()], await freePort()];
  const common: Record<string, string> = {
    SECKILL_MODE: 'services',
    ...engineEnv,
    SECKILL_TOKEN_SECRET: TOKEN_SECRET,
    SECKILL_ADMIN_PHONE: ADMIN.phone,
    SECKILL_ADMIN_PASSWORD: ADMIN.password,
    ORDER_PAY_TIMEOUT_MS: String(PAY_TIMEOUT_MS),
    RECONCILE_INTERVAL_MS: '2000',
    // Shorter than every freeze and partition: a message late past it must still not be taken for lost.
    RECONCILE_GRACE_MS: '8000',
    STARTUP_TIMEOUT_MS: '600000',
    METRICS_TOKEN: 'chaos-metrics-token-0123456789',
    // The buyers here are few and press fast; limits against bots are not what this run is about.
    SECKILL_RATE_LIMIT_PER_S: '0',
    SECKILL_IP_RATE_LIMIT_PER_S: '0',
    SECKILL_AUTH_RATE_LIMIT_PER_MIN: '0',
    // The run registers its synthetic buyers over HTTP by the hundred (shop-setup.ts) on phones nobody owns; the
    // codes that prove a phone are not what it tests (test/e2e/phone-verification.e2e.test.ts does).
    SECKILL_PHONE_VERIFICATION: 'off',
    // A wider window between a unit's reservation and its publish, so kills of an api process land in it.
    API_BATCH_MAX_WAIT_MS: '50',
    WS_PORT: String(wsPort),
    LOG_LEVEL: 'info',
  };
  const specs: RoleSpec[] = placeRoles([
    // The second api process forks two on its port, as services mode does by default (one per core).
    ...apiPorts.map((port, i) => ({ name: `api-${i + 1}`, role: 'api' as const, env: { ...common, PORT: String(port), SECKILL_API_PROCESSES: String(i + 1) } })),
    { name: 'worker-1', role: 'worker', env: { ...common, METRICS_PORT: String(await freePort()) } },
    { name: 'worker-2', role: 'worker', env: { ...common, METRICS_PORT: String(await freePort()) } },
    { name: 'ws-1', role: 'ws', env: { ...common, METRICS_PORT: String(await freePort()) } },
  ], network);
  /** Where Prometheus would scrape each role: the api's own port (every fork in one answer), the others' metrics port. */
  const metricsUrls = specs.map((sp) => ({ name: sp.name, url: `http://${addressOf(network, sp.name)}:${sp.env.METRICS_PORT ?? sp.env.PORT}/metrics` }));
  const supervisor = supervise({ root: ROOT, logDir, specs, onEvent: (line) => say(line) });
  let exitCode = 1;
  try {
    await supervisor.allReady(180_000);
    say(`roles up: ${specs.map((s) => s.name).join(', ')}`);
    await assertTap(brokerUrls[0]!, 'seckill.', clusters !== undefined);

    const bases = apiPorts.map((p, i) => `http://${addressOf(network, `api-${i + 1}`)}:${p}`);
    const client = shopClient(bases, () => random.int(0, 1_000_000));
    const adminToken = await loginAdmin(client, ADMIN);
    const buyers = await registerBuyers(client, buyerCount);
    say(`${buyers.length} buyers registered`);
    // Sales come in waves, as on a real site: buyers who paid are done with a sale, so a new wave keeps orders
    // flowing while the faults fire. Each wave has two sales that sell out and one with more units than buyers.
    const goods: Sale[] = [];
    let current: Sale[] = [];
    const openWave = async () => {
      current = await createSales(client, adminToken, buyerCount, goods.length / 3 + 1);
      goods.push(...current);
      say(`wave ${goods.length / 3}: ${current.map((g) => `sale #${g.id} ${g.stock} units${g.spare ? ' (units to spare)' : ''}`).join(', ')}`);
    };
    await openWave();
    const run = startBuyers({ client, wsUrl: `ws://${addressOf(network, 'ws-1')}:${wsPort}`, buyers, goodIds: () => current.map((g) => g.id), random, payTimeoutMs: PAY_TIMEOUT_MS });
    let waves = Promise.resolve();
    const waveTimer = setInterval(() => {
      // The admin api may be down at that moment (an outage): the wave opens when it answers.
      waves = waves.then(() => openWave()).catch((err: unknown) => {
        say(`could not open a wave yet: ${(err as Error).message}`);
      });
    }, WAVE_MS);
    const { fired, t0 } = await runSchedule(plan, {
      supervisor,
      ...(services ? { services } : {}),
      ...(clusters ? { clusters } : {}),
      brokerUrls,
      currentGoods: () => current.map((g) => g.id),
      queryDb: (sql, params) => query(databaseUrl, sql, params),
      amqpPrefix: 'seckill.',
      payTimeoutMs: PAY_TIMEOUT_MS,
      random,
      ...(network ? { network } : {}),
    });
    clearInterval(waveTimer);
    await waves;
    say('schedule done; buyers finish what they started');
    await run.stop();
    say(`buyers done (${run.history.requests.length} presses); waiting for the system to settle`);
    const snapshot = await settle(client, adminToken, goods, databaseUrl, run.history, buyers, say);
    const report = check(snapshot, run.history);
    // A run whose faults did not all fire proved less than it claims: that fails too.
    for (const kind of new Set(plan.map((f) => f.kind))) {
      const planned = plan.filter((f) => f.kind === kind).length;
      const done = fired.filter((f) => f.kind === kind && f.fired).length;
      if (done < planned) report.violations.push(`fault ${kind}: ${done} of ${planned} planned fired`);
    }
    if (report.figures.queued === 0) report.violations.push('no request was ever QUEUED: the run proved nothing');
    for (const f of fired) report.violations.push(...(f.violations ?? []).map((v) => `${f.kind}: ${v}`));
    const failovers = failoverSummary(fired);
    const repairs = repairsFromLogs(logDir);
    // A role killed late may still be starting (waiting for an engine a fault stopped): its metrics are read
    // once every role serves again; one that never does is a violation of its own.
    await supervisor.allReady(60_000).catch((err: unknown) => report.violations.push(err instanceof Error ? err.message : String(err)));
    const scraped = await scrapeRoles(metricsUrls, common.METRICS_TOKEN!);
    for (const r of scraped) if (r.series === undefined) report.violations.push(`metrics of ${r.name} could not be scraped: ${r.error}`);
    const restarts = supervisor.processes.map((p) => `${p.spec.name} ×${p.starts - 1}`).join(', ');
    const lines = [
      '',
      `chaos report (seed ${seed}${args.short ? ', short' : ''}${args.hosts ? ', hosts' : ''}, ${((Date.now() - started) / 1000).toFixed(0)} s)`,
      `  faults fired: ${kinds.map((k) => `${k} ${fired.filter((f) => f.kind === k && f.fired).length}`).join(', ')}`,
      `  restarts:     ${restarts}`,
      `  ${Object.entries(report.figures).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `  sales:        ${describeSales(snapshot.goods.filter((g) => !g.spare))} that sell out; ${describeSales(snapshot.goods.filter((g) => g.spare))} with units to spare`,
      `  repairs:      ${Object.entries(repairs).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
      `  metrics:      ${scraped.map((r) => `${r.name} ${r.series ?? 'none'}`).join(', ')} series scraped from each role's host`,
      ...(failovers.length ? ['  failovers:', ...failovers.map((l) => `    ${l}`)] : []),
      `  violations:   ${report.violations.length}`,
      ...report.violations.slice(0, 50).map((v) => `    - ${v}`),
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
    // The page outlives the run's folder (removed after a green run): in the temporary folder, named by the seed.
    const page = path.join(os.tmpdir(), `seckill-chaos-${seed}${args.hosts ? '-hosts' : ''}${args.freeze ? '-freeze' : ''}-report.html`);
    writeFileSync(
      page,
      renderReport({
        title: `seckill chaos run, seed ${seed}${args.short ? ', short' : ''}${args.freeze ? ', freeze' : ''}${args.hosts ? ', hosts' : ''}`,
        t0,
        timeline: run.history.timeline,
        faults: fired.map((f) => ({ kind: f.kind, startMs: f.startMs, endMs: f.atMs, detail: f.detail, fired: f.fired })),
        failovers,
        figures: report.figures,
        violations: report.violations,
      }),
    );
    say(`report page: ${page}`);
    writeFileSync(path.join(dir, 'report.json'), JSON.stringify({ seed, short: args.short, fired, figures: report.figures, repairs, violations: report.violations, history: run.history }, null, 1));
    exitCode = report.violations.length === 0 ? 0 : 1;
  } catch (err) {
    say(`chaos run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await supervisor.stop();
    // The clusters go with the hosts (the outer run removes every namespace and the engines' data).
    if (services) await Promise.allSettled([services.postgres.destroy(), services.redis.destroy(), services.rabbit.destroy()]);
    if (exitCode === 0 && !args.keep) rmSync(dir, { recursive: true, force: true });
    else say(`logs and report kept in ${dir}`);
  }
  return exitCode;
}

/** Fires the plan: outages one after another on their own track, the other faults at their moments. */
async function runSchedule(plan: PlannedFault[], deps: Parameters<typeof fire>[0]): Promise<{ fired: FiredFault[]; t0: number }> {
  const fired: FiredFault[] = [];
  const t0 = Date.now();
  const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
  const once = async (f: PlannedFault) => {
    // A fault that finds nothing to act on (Redis down for a flush, no message to duplicate) tries again shortly.
    for (let attempt = 0; attempt < 40; attempt++) {
      const startMs = Date.now() - t0;
      try {
        const r = await fire(deps, f);
        if (r.fired || attempt === 39) {
          fired.push({ ...r, startMs, atMs: Date.now() - t0, kind: f.kind });
          say(`fault ${f.kind}: ${r.detail}`);
          return;
        }
      } catch (err) {
        if (attempt === 39) {
          fired.push({ startMs, atMs: Date.now() - t0, kind: f.kind, detail: `failed: ${(err as Error).message}`, fired: false });
          say(`fault ${f.kind} failed: ${(err as Error).message}`);
          return;
        }
      }
      await sleep(3000);
    }
  };
  const outages = plan.filter((f) => (OUTAGES as readonly string[]).includes(f.kind));
  const outageTrack = (async () => {
    for (const f of outages) {
      await at(f.atMs);
      say(`fault ${f.kind}: starting (down ${((f.downMs ?? 0) / 1000).toFixed(1)} s)`);
      await once(f);
    }
  })();
  const instant = plan.filter((f) => !(OUTAGES as readonly string[]).includes(f.kind)).map(async (f) => {
    await at(f.atMs);
    await once(f);
  });
  await Promise.all([outageTrack, ...instant]);
  return { fired: fired.sort((a, b) => a.atMs - b.atMs), t0 };
}

/** Each role's /metrics, as Prometheus would scrape it: how many series, or why not. */
async function scrapeRoles(targets: readonly { name: string; url: string }[], token: string): Promise<{ name: string; series?: number; error?: string }[]> {
  return Promise.all(
    targets.map(async ({ name, url }) => {
      try {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
        if (!res.ok) return { name, error: `${url}: ${res.status}` };
        const series = (await res.text()).split('\n').filter((l) => l.startsWith('seckill_')).length;
        return series > 0 ? { name, series } : { name, error: `${url}: no seckill_ series` };
      } catch (err) {
        return { name, error: `${url}: ${(err as Error).message}` };
      }
    }),
  );
}

/** Per engine: how many failovers, and the takeover and next-order times (median and slowest). */
function failoverSummary(fired: readonly FiredFault[]): string[] {
  const lines: string[] = [];
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const stat = (values: number[]) => {
    if (values.length === 0) return 'none seen';
    const sorted = [...values].sort((a, b) => a - b);
    return `median ${sec(sorted[Math.floor((sorted.length - 1) / 2)]!)}, slowest ${sec(sorted.at(-1)!)}`;
  };
  for (const engine of ['PostgreSQL', 'RabbitMQ', 'Redis'] as const) {
    const of = fired.filter((f) => f.failover?.engine === engine).map((f) => f.failover!);
    if (of.length === 0) continue;
    const takeovers = of.flatMap((x) => (x.takeoverMs !== undefined ? [x.takeoverMs] : []));
    const orders = of.flatMap((x) => (x.nextOrderMs !== undefined ? [x.nextOrderMs] : []));
    lines.push(`${engine}: ${of.length} failover${of.length === 1 ? '' : 's'}; taken over after ${stat(takeovers)}; next order after ${stat(orders)}`);
  }
  return lines;
}

process.exitCode = args.hosts && !network ? await runOnHosts(ROLES, say) : await main();
