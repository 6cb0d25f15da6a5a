/** One bench run's records, and what the report makes of them: the table's rows and the burst's plot. */
import os from 'node:os';
import { cpuPerOp, type CpuUse } from './cpu.ts';
import type { Check } from './invariants.ts';
import type { LoadResult } from './load.ts';
import { median, peakRssRows, renderPlot, type Row } from './report.ts';
import { socketsRows, type SocketsResult } from './sockets-scenario.ts';
import type { Mode } from './stack.ts';

export const SCENARIOS = ['baseline', 'burst', 'accept', 'hot', 'e2e', 'sockets', 'apis'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface RunRecord {
  run: number;
  hello?: LoadResult & { cpu: CpuUse };
  burst?: { load: LoadResult; queued: number; cpu: CpuUse };
  accept?: { load: LoadResult; rawRate?: number; cpu: CpuUse };
  hot?: { rate: number; seconds: number; orders: number; onePerTxRate?: number; dbStageRate?: number; workers: number; cpu: CpuUse };
  e2e?: { seconds: number; resultsPerSecond: number; pushLagMs: number; queued: number; sockets: number; sampledQueued: number; cpu: CpuUse };
  sockets?: SocketsResult;
  /** The burst's req/s on one api process and on two forked on one port, same run. */
  apis?: { one: number; two: number };
  /** Peak RSS (VmHWM) of each child during the run, MiB. */
  peakRssMiB?: Record<string, number>;
  checks: (Check & { scenario: string })[];
}

export function tableRows(records: RunRecord[], mode: Mode, want: (s: Scenario) => boolean): Row[] {
  const services = mode === 'services';
  const pick = <T>(f: (r: RunRecord) => T | undefined) => records.map(f).filter((v): v is T => v !== undefined);
  const row = (r: Omit<Row, 'value'> & { value?: number }): Row => ({ ...r, value: r.value ?? median(r.runs) });
  const rows: Row[] = [];
  /** CPU µs per operation of one process group over runs, as a row (with a target when given). */
  const cpuRow = (scenario: string, metric: string, per: (number | undefined)[], target?: { max: number }) => {
    const runs = per.filter((v): v is number => v !== undefined);
    if (runs.length === 0) return;
    const us = median(runs);
    rows.push(row({ scenario, metric, unit: 'µs', runs, ...(target ? { target: `≤ ${target.max} µs`, ...(services ? { met: us <= target.max } : {}) } : {}) }));
  };
  const hello = pick((r) => r.hello);
  if (hello.length) {
    rows.push(row({ scenario: 'baseline', metric: 'hello-world req/s', unit: 'req/s', runs: hello.map((l) => l.rps) }));
    rows.push(row({ scenario: 'baseline', metric: 'hello-world p99', unit: 'ms', runs: hello.map((l) => l.latencyMs.p99) }));
    cpuRow('baseline', 'CPU per request: hello-world', hello.map((l) => cpuPerOp(l.cpu, l.requests)['hello-world']));
  }
  const bursts = records.filter((r) => r.burst && r.hello);
  if (want('burst') && bursts.length) {
    const ratio = median(bursts.map((r) => r.burst!.load.rps / r.hello!.rps));
    rows.push(row({
      scenario: 'burst', metric: 'req/s', unit: 'req/s', runs: bursts.map((r) => r.burst!.load.rps),
      baseline: { name: 'hello-world', value: median(bursts.map((r) => r.hello!.rps)), unit: 'req/s' },
      ratio, target: '≥ 0.8×', ...(services ? { met: ratio >= 0.8 } : {}),
    }));
    rows.push(row({ scenario: 'burst', metric: 'p50 latency', unit: 'ms', runs: bursts.map((r) => r.burst!.load.latencyMs.p50) }));
    const p99 = median(bursts.map((r) => r.burst!.load.latencyMs.p99));
    rows.push(row({ scenario: 'burst', metric: 'p99 latency', unit: 'ms', runs: bursts.map((r) => r.burst!.load.latencyMs.p99), target: '< 50 ms', ...(services ? { met: p99 < 50 } : {}) }));
    // Nine answers in ten are the sold-out sign's: this is the figure to steer the sold-out answer by.
    cpuRow('burst', 'CPU per request: api (90% sold out)', bursts.map((r) => cpuPerOp(r.burst!.cpu, r.burst!.load.requests).api), { max: 45 });
    cpuRow('burst', 'CPU per request: load generator', bursts.map((r) => cpuPerOp(r.burst!.cpu, r.burst!.load.requests)['bench (load generator)']));
  }
  const apis = pick((r) => r.apis);
  if (apis.length) {
    rows.push(row({ scenario: 'api processes', metric: 'burst req/s, 1 process', unit: 'req/s', runs: apis.map((a) => a.one) }));
    rows.push(row({ scenario: 'api processes', metric: 'burst req/s, 2 processes on one port', unit: 'req/s', runs: apis.map((a) => a.two) }));
    rows.push(row({ scenario: 'api processes', metric: '2 vs 1 process', unit: '×', runs: apis.map((a) => a.two / a.one) }));
  }
  const accepts = records.filter((r) => r.accept);
  if (want('accept') && accepts.length) {
    const withHello = accepts.filter((r) => r.hello);
    const helloRatio = withHello.length ? median(withHello.map((r) => r.accept!.load.rps / r.hello!.rps)) : undefined;
    rows.push(row({
      scenario: 'accept', metric: 'req/s (all QUEUED)', unit: 'req/s', runs: accepts.map((r) => r.accept!.load.rps),
      ...(helloRatio !== undefined
        ? { baseline: { name: 'hello-world', value: median(withHello.map((r) => r.hello!.rps)), unit: 'req/s' }, ratio: helloRatio, target: '≥ 0.6×', ...(services ? { met: helloRatio >= 0.6 } : {}) }
        : {}),
    }));
    // The per-message publish, printed for reference: with batches it is no longer the accept path's limit.
    const withRaw = accepts.filter((r) => r.accept!.rawRate !== undefined);
    if (withRaw.length) {
      rows.push(row({
        scenario: 'accept', metric: 'vs raw confirmed publish', unit: '×', runs: withRaw.map((r) => r.accept!.load.rps / r.accept!.rawRate!),
        baseline: { name: 'raw confirmed publish', value: median(withRaw.map((r) => r.accept!.rawRate!)), unit: 'msg/s' },
        ratio: median(withRaw.map((r) => r.accept!.load.rps / r.accept!.rawRate!)),
      }));
    }
    rows.push(row({ scenario: 'accept', metric: 'p99 latency', unit: 'ms', runs: accepts.map((r) => r.accept!.load.latencyMs.p99) }));
    const acceptCpu = (group: string) => accepts.map((r) => cpuPerOp(r.accept!.cpu, r.accept!.load.requests)[group]);
    cpuRow('accept', 'CPU per request: api', acceptCpu('api'), { max: 60 });
    for (const group of services ? ['redis', 'rabbitmq'] : []) cpuRow('accept', `CPU per request: ${group}`, acceptCpu(group));
  }
  const hots = records.filter((r) => r.hot);
  if (want('hot') && hots.length) {
    const withBase = hots.filter((r) => r.hot!.onePerTxRate !== undefined);
    const ratio = withBase.length ? median(withBase.map((r) => r.hot!.rate / r.hot!.onePerTxRate!)) : undefined;
    const rate = median(hots.map((r) => r.hot!.rate));
    rows.push(row({
      scenario: 'hot good', metric: `orders/s (${hots[0]!.hot!.workers} worker)`, unit: 'orders/s', runs: hots.map((r) => r.hot!.rate),
      target: '≥ 30k/s', ...(services ? { met: rate >= 30_000 } : {}),
    }));
    if (ratio !== undefined) {
      rows.push(row({
        scenario: 'hot good', metric: 'vs one order per transaction', unit: '×', runs: withBase.map((r) => r.hot!.rate / r.hot!.onePerTxRate!), value: ratio,
        baseline: { name: 'one per tx', value: median(withBase.map((r) => r.hot!.onePerTxRate!)), unit: 'orders/s' },
        ratio, target: '≥ 25×', ...(services ? { met: ratio >= 25 } : {}),
      }));
    }
    // CPU µs per order of the product's processes and engines together during the drain.
    const product = ['rabbitmq', 'worker', 'postgres', 'ws', 'redis', 'api'];
    if (services) cpuRow('hot good', 'CPU per order: all processes', hots.map((r) => product.reduce((sum, g) => sum + (cpuPerOp(r.hot!.cpu, r.hot!.orders)[g] ?? 0), 0)), { max: 55 });
    // CPU µs per order of each process during the drain (the broker's is the one batches exist for).
    for (const group of services ? ['rabbitmq', 'worker', 'postgres', 'ws'] : []) {
      const per = hots.map((r) => cpuPerOp(r.hot!.cpu, r.hot!.orders)[group]).filter((v): v is number => v !== undefined);
      if (per.length === 0) continue;
      const us = median(per);
      rows.push(row({
        scenario: 'hot good', metric: `CPU per order: ${group}`, unit: 'µs', runs: per,
        ...(group === 'rabbitmq' ? { target: '≤ 15 µs', ...(services ? { met: us <= 15 } : {}) } : {}),
      }));
    }
  }
  const withDb = hots.filter((r) => r.hot!.dbStageRate !== undefined && r.hot!.onePerTxRate !== undefined);
  if (want('hot') && withDb.length) {
    const dbRatio = median(withDb.map((r) => r.hot!.dbStageRate! / r.hot!.onePerTxRate!));
    rows.push(row({
      scenario: 'hot good', metric: 'database stage alone, orders/s', unit: 'orders/s', runs: withDb.map((r) => r.hot!.dbStageRate!),
      baseline: { name: 'one per tx', value: median(withDb.map((r) => r.hot!.onePerTxRate!)), unit: 'orders/s' },
      ratio: dbRatio,
    }));
  }
  const e2es = records.filter((r) => r.e2e);
  if (want('e2e') && e2es.length) {
    const e2eSeconds = median(e2es.map((r) => r.e2e!.seconds));
    rows.push(row({ scenario: 'end to end', metric: 'first request → last push', unit: 's', runs: e2es.map((r) => r.e2e!.seconds), target: '≤ 1.5 s', ...(services ? { met: e2eSeconds <= 1.5 } : {}) }));
    rows.push(row({ scenario: 'end to end', metric: 'results/s', unit: '/s', runs: e2es.map((r) => r.e2e!.resultsPerSecond) }));
    const lag = median(e2es.map((r) => r.e2e!.pushLagMs));
    rows.push(row({ scenario: 'end to end', metric: 'last push after last QUEUED', unit: 'ms', runs: e2es.map((r) => r.e2e!.pushLagMs), target: '≤ 2000 ms', ...(services ? { met: lag <= 2000 } : {}) }));
  }
  // The product's processes each within 200 MiB at their peak; the baselines' peaks are printed for comparison.
  const rss = peakRssRows(pick((r) => r.peakRssMiB)).map((r) =>
    services && ['api', 'worker', 'ws'].includes(r.metric) ? { ...r, target: '≤ 200 MiB', met: r.value <= 200 } : r,
  );
  rows.push(...socketsRows(pick((r) => r.sockets)), ...rss);
  return rows;
}

/** The run whose burst rate is the median one: its burst and hello-world series. */
export function burstPlot(records: RunRecord[], opts: { units: number; mode: Mode; date: string; connections: number }): string | null {
  const bursts = records.filter((r) => r.burst && r.hello);
  if (!bursts.length) return null;
  const sorted = [...bursts].sort((a, b) => a.burst!.load.rps - b.burst!.load.rps);
  const r = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const b = r.burst!.load;
  const h = r.hello!;
  return renderPlot(
    `Burst: ${b.requests.toLocaleString('en-US')} buyers, ${opts.units.toLocaleString('en-US')} units (${opts.mode} mode, run ${r.run} of ${records.length})`,
    `${opts.date} · ${os.cpus().length} cores · ${opts.connections} connections · burst ${Math.round(b.rps).toLocaleString('en-US')} req/s, p99 ${b.latencyMs.p99} ms · hello-world ${Math.round(h.rps).toLocaleString('en-US')} req/s`,
    [
      { label: 'seckill: all answers', color: '#d9480f', counts: b.series.all, bucketMs: b.series.bucketMs },
      { label: 'seckill: QUEUED answers', color: '#2b8a3e', counts: b.series.accepted, bucketMs: b.series.bucketMs },
      { label: 'fastify hello-world (same requests)', color: '#1c7ed6', counts: h.series.all, bucketMs: h.series.bucketMs, dashed: true },
    ],
  );
}
