/**
 * `npm run bench` — the benchmark of issue 5 (a benchmark, not a test: it never fails on a time).
 *
 *   npm run bench                                  services mode, every scenario, 3 runs
 *   npm run bench -- --mode embedded               the embedded default (one process)
 *   npm run bench -- --scenarios burst --runs 1 --profile api
 *   npm run bench -- --help
 *
 * Starts the system as child processes on isolated names (services: api, ws and worker(s) apart), seeds the
 * buyers in bulk, runs each scenario with its baseline in the same run, checks the invariants after each,
 * prints a table of medians and ratios, writes bench/results/<date>-<mode>.json and an SVG of answers per
 * second during the burst, and removes everything it made. Exit code 1 only when an invariant failed.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startHello, type HelloServer } from './lib/baselines.ts';
import { logDir, ROOT } from './lib/children.ts';
import { peakRss, resetPeakRss } from './lib/cpu.ts';
import { printChecks, type Check } from './lib/invariants.ts';
import type { LoadResult } from './lib/load.ts';
import { renderTable } from './lib/report.ts';
import { acceptThenDrain, apiProcesses, burst, endToEnd, helloBaseline, warmUp, type ScenarioContext } from './lib/scenarios.ts';
import { adminToken, seedBuyers } from './lib/seed.ts';
import { sockets } from './lib/sockets-scenario.ts';
import { startStack, type Mode, type Stack } from './lib/stack.ts';
import { SCENARIOS, burstPlot, tableRows, type RunRecord, type Scenario } from './lib/run-results.ts';

const HELP = `npm run bench -- [options]
  --mode services|embedded   system under test (default services)
  --runs N                   repetitions; the table shows medians (default 3)
  --scenarios LIST           of ${SCENARIOS.join(',')} (default all; apis = the burst on 1 vs 2 api
                             processes forked on one port, services mode)
  --buyers N                 distinct buyers seeded (default 100000)
  --units N                  units on sale in the burst and end-to-end scenarios (default 10000)
  --burst-requests N         requests in the burst and its baseline (default: one per buyer)
  --accept N                 requests on the accept path = orders the hot good drains (default 30000)
  --one-per-tx N             orders of the one-order-per-transaction baseline (default 3000)
  --e2e-requests N           requests in the end-to-end scenario (default 2 × units)
  --sockets N                result sockets opened for a sample of buyers (default 2000)
  --push-sockets N           sockets of one buyer opened on one push process, scenario sockets (default 10000)
  --connections N            autocannon connections = raw publish concurrency (default 100)
  --workers N                worker processes, services mode (default 1)
  --worker-env K=V           a setting of every worker child, repeatable (e.g. WORKER_CONCURRENCY=4)
  --api-env K=V              a setting of the api child, repeatable
  --warmup N                 requests to warm both servers up first (default 20000; 0 = none)
  --profile ROLES            --cpu-prof these children: api,worker,ws,hello (into bench/results/profiles/)
  --plot PATH                also write the burst plot here (e.g. bench/results/burst-latest.svg)
  --date YYYY-MM-DD          date in the file names (default today)`;

function parse() {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'services' },
      runs: { type: 'string', default: '3' },
      scenarios: { type: 'string', default: SCENARIOS.join(',') },
      buyers: { type: 'string', default: '100000' },
      units: { type: 'string', default: '10000' },
      'burst-requests': { type: 'string' },
      accept: { type: 'string', default: '30000' },
      'one-per-tx': { type: 'string', default: '3000' },
      'e2e-requests': { type: 'string' },
      sockets: { type: 'string', default: '2000' },
      'push-sockets': { type: 'string', default: '10000' },
      connections: { type: 'string', default: '100' },
      workers: { type: 'string', default: '1' },
      'worker-env': { type: 'string', multiple: true, default: [] },
      'api-env': { type: 'string', multiple: true, default: [] },
      warmup: { type: 'string', default: '20000' },
      profile: { type: 'string', default: '' },
      plot: { type: 'string' },
      date: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, min = 0) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  const kv = (list: string[]) =>
    Object.fromEntries(list.map((s) => {
      const at = s.indexOf('=');
      if (at <= 0) throw new Error(`expected KEY=VALUE, got ${s}`);
      return [s.slice(0, at), s.slice(at + 1)];
    }));
  const mode = values.mode as Mode;
  if (mode !== 'services' && mode !== 'embedded') throw new Error(`--mode must be services or embedded, got ${values.mode}`);
  const scenarios = values.scenarios.split(',').map((s) => s.trim()).filter(Boolean) as Scenario[];
  for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; pick from ${SCENARIOS.join(',')}`);
  const buyers = int('buyers', values.buyers, 1);
  const units = int('units', values.units, 1);
  return {
    mode,
    runs: int('runs', values.runs, 1),
    scenarios: new Set(scenarios),
    buyers,
    units,
    burstRequests: values['burst-requests'] ? int('burst-requests', values['burst-requests'], 1) : buyers,
    accept: Math.min(int('accept', values.accept, 1), buyers),
    onePerTx: Math.min(int('one-per-tx', values['one-per-tx']), buyers),
    e2eRequests: values['e2e-requests'] ? int('e2e-requests', values['e2e-requests'], 1) : Math.min(2 * units, buyers),
    sockets: int('sockets', values.sockets),
    pushSockets: int('push-sockets', values['push-sockets'], 1),
    connections: int('connections', values.connections, 1),
    workers: int('workers', values.workers, 1),
    workerEnv: kv(values['worker-env']),
    apiEnv: kv(values['api-env']),
    warmup: int('warmup', values.warmup),
    profile: values.profile.split(',').map((s) => s.trim()).filter(Boolean),
    plot: values.plot,
    date: values.date ?? new Date().toISOString().slice(0, 10),
  };
}

const log = (line = '') => process.stdout.write(line + '\n');

async function main() {
  const opts = parse();
  const want = (s: Scenario) => opts.scenarios.has(s);
  const resultsDir = path.join(ROOT, 'bench', 'results');
  const profileDir = opts.profile.length ? path.join(resultsDir, 'profiles', `${opts.date}-${opts.mode}-${Date.now()}`) : undefined;
  await fs.mkdir(resultsDir, { recursive: true });
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
  log(`seckill bench — ${opts.mode} mode, ${opts.runs} run(s), ${machine.cpus} cores (${machine.cpu}), node ${machine.node}, ${opts.date}`);
  log(`buyers ${opts.buyers}, units ${opts.units}, burst ${opts.burstRequests} requests, accept ${opts.accept}, connections ${opts.connections}, workers ${opts.workers} ${JSON.stringify(opts.workerEnv)}`);
  log(`child logs: ${logDir()}${profileDir ? `; CPU profiles: ${profileDir}` : ''}`);

  // Services mode runs the roles as `npm start` does, from the build: build it if the sources are newer.
  if (opts.mode === 'services') {
    const built = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('the build failed (node scripts/build.mjs)');
  }

  let hello: HelloServer | null = null;
  let stack: Stack | null = null;
  const cleanup = async () => {
    await Promise.all([hello?.child.stop(), stack?.close()]);
    hello = null;
    stack = null;
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  const records: RunRecord[] = [];
  try {
    const needHello = want('baseline') || want('burst');
    [hello, stack] = await Promise.all([
      needHello ? startHello(opts.profile.includes('hello') ? profileDir : undefined) : Promise.resolve(null),
      startStack({ mode: opts.mode, compiled: opts.mode === 'services', workers: opts.workers, workerEnv: opts.workerEnv, apiEnv: opts.apiEnv, profile: opts.profile, ...(profileDir ? { profileDir } : {}) }),
    ]);
    // A second api child, two processes forked on one port, for the apis scenario.
    const twoApisUrl = want('apis') && opts.mode === 'services' ? await stack.startApi({ SECKILL_API_PROCESSES: '2' }) : null;
    if (want('apis') && !twoApisUrl) log('apis: skipped (embedded mode runs one process)');
    let t = performance.now();
    const buyers = await seedBuyers(stack.sql, stack.secret, opts.buyers);
    log(`seeded ${buyers.length} buyers with tokens in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const ctx: ScenarioContext = { stack, adminToken: await adminToken(stack), buyers, connections: opts.connections, tag: 'w', log };
    if (opts.warmup > 0) {
      t = performance.now();
      await warmUp({ ...ctx, tag: `w${randomBytes(2).toString('hex')}` }, hello?.url ?? null, opts.warmup);
      // The forked api processes too (round-robin spreads the warm-up over both).
      if (twoApisUrl) await warmUp({ ...ctx, stack: { ...stack, apiUrl: twoApisUrl }, tag: `w${randomBytes(2).toString('hex')}` }, null, opts.warmup);
      log(`warmed up (${opts.warmup} requests each) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }

    for (let run = 1; run <= opts.runs; run++) {
      log(`\nrun ${run}/${opts.runs}`);
      const rc: ScenarioContext = { ...ctx, tag: `r${run}${randomBytes(2).toString('hex')}` };
      const rec: RunRecord = { run, checks: [] };
      const children = () => new Map([...stack!.processes(), ...(hello?.child.proc.pid ? [[hello.child.proc.pid, 'hello-world'] as [number, string]] : [])]);
      resetPeakRss(children());
      const note = (scenario: string, checks: Check[]) => {
        printChecks(scenario, checks, log);
        rec.checks.push(...checks.map((c) => ({ ...c, scenario })));
      };
      if (want('baseline') || want('burst')) rec.hello = await helloBaseline(rc, hello!.url, opts.burstRequests, hello!.child.proc.pid);
      if (want('burst')) {
        const b = await burst(rc, { units: opts.units, requests: opts.burstRequests });
        rec.burst = { load: b.load, queued: b.load.acceptedBuyers.length, cpu: b.cpu };
        note('burst', b.checks);
      }
      if (want('e2e')) {
        const e = await endToEnd(rc, { units: opts.units, requests: opts.e2eRequests, sockets: opts.sockets });
        rec.e2e = { seconds: e.seconds, resultsPerSecond: e.resultsPerSecond, pushLagMs: e.pushLagMs, queued: e.queued, sockets: e.sockets, sampledQueued: e.sampledQueued, cpu: e.cpu };
        note('e2e', e.checks);
      }
      if (want('accept') || want('hot')) {
        const { accept, hot } = await acceptThenDrain(rc, {
          requests: opts.accept,
          onePerTx: want('hot') ? opts.onePerTx : 0,
          onePerTxConcurrency: Number(opts.workerEnv.DATABASE_POOL_SIZE ?? 10),
          rawPublish: want('accept'),
          // The worker's own settings, so the database stage is timed as the worker runs it.
          dbStage: {
            orders: opts.accept,
            batchSize: Number(opts.workerEnv.WORKER_BATCH_SIZE ?? 500),
            concurrency: Number(opts.workerEnv.WORKER_CONCURRENCY ?? 4),
          },
        });
        rec.accept = { load: accept.load, cpu: accept.cpu, ...(accept.raw ? { rawRate: accept.raw.rate } : {}) };
        rec.hot = {
          rate: hot.rate, seconds: hot.seconds, orders: hot.orders, workers: hot.workers, cpu: hot.cpu,
          ...(hot.onePerTx ? { onePerTxRate: hot.onePerTx.rate } : {}),
          ...(hot.dbStage ? { dbStageRate: hot.dbStage.rate } : {}),
        };
        note('accept', accept.checks);
        note('hot good', hot.checks);
      }
      if (twoApisUrl) {
        const a = await apiProcesses(rc, { units: opts.units, requests: opts.burstRequests, twoUrl: twoApisUrl, run });
        rec.apis = { one: a.one.load.rps, two: a.two.load.rps };
        note('apis, 1 process', a.one.checks);
        note('apis, 2 processes', a.two.checks);
      }
      if (want('sockets')) {
        rec.sockets = await sockets(rc, { count: opts.pushSockets });
        note('sockets', rec.sockets.checks);
      }
      rec.peakRssMiB = { ...peakRss(children()), ...(rec.sockets?.barePeakRssMiB ? { 'bare ws': rec.sockets.barePeakRssMiB } : {}) };
      records.push(rec);
    }
  } finally {
    await cleanup();
  }

  const rows = tableRows(records, opts.mode, want);
  log(`\nmedians of ${records.length} run(s), ${opts.mode} mode, ${machine.cpus} cores, ${opts.date}\n`);
  log(renderTable(rows));
  const failed = records.flatMap((r) => r.checks.filter((c) => !c.ok));
  const total = records.reduce((n, r) => n + r.checks.length, 0);
  log(`\ninvariants: ${total - failed.length}/${total} checks passed${failed.length ? ` — FAILED: ${[...new Set(failed.map((c) => `${c.scenario}: ${c.name}`))].join('; ')}` : ''}`);

  const stem = path.join(resultsDir, `${opts.date}-${opts.mode}`);
  const plot = burstPlot(records, opts);
  if (plot) {
    await fs.writeFile(`${stem}-burst.svg`, plot);
    if (opts.plot) await fs.writeFile(path.resolve(opts.plot), plot);
    log(`plot: ${path.relative(ROOT, `${stem}-burst.svg`)}${opts.plot ? ` and ${opts.plot}` : ''}`);
  }
  const strip = (l?: LoadResult) => l && { ...l, acceptedBuyers: l.acceptedBuyers.length };
  await fs.writeFile(
    `${stem}.json`,
    JSON.stringify(
      {
        date: opts.date, mode: opts.mode, machine,
        settings: { ...opts, scenarios: [...opts.scenarios] },
        table: rows,
        runs: records.map((r) => ({ ...r, hello: strip(r.hello), burst: r.burst && { ...r.burst, load: strip(r.burst.load) }, accept: r.accept && { ...r.accept, load: strip(r.accept.load) } })),
      },
      null,
      2,
    ),
  );
  log(`results: ${path.relative(ROOT, `${stem}.json`)}`);
  if (failed.length) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
