/** Prometheus metrics of one process (its own registry, so several apps can live in one test process). */
import cluster from 'node:cluster';
import { timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Aggregator } from 'prom-client';
import type { QueueDepths } from '../core/ports/order-bus.ts';
import { joinClusterMetrics } from './cluster-metrics.ts';

/**
 * How a scrape of several api processes (cluster-metrics.ts) sums up a process gauge where prom-client's
 * own choice misleads. Its event-loop lag is averaged over the processes: one CPU-bound process among
 * several would hide behind the idle ones, so the worst one counts. File descriptor limits: the tightest.
 */
const ACROSS_PROCESSES: Record<string, Aggregator> = {
  ...Object.fromEntries(['', '_mean', '_stddev', '_p50', '_p90', '_p99'].map((s) => [`seckill_process_nodejs_eventloop_lag${s}_seconds`, 'max'])),
  seckill_process_process_max_fds: 'min',
};

export function createMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaults) {
    collectDefaultMetrics({ register: registry, prefix: 'seckill_process_' });
    for (const [name, aggregator] of Object.entries(ACROSS_PROCESSES)) {
      const metric = registry.getSingleMetric(name) as { aggregator?: Aggregator } | undefined;
      if (metric) metric.aggregator = aggregator;
    }
  }
  const seckillRequests = new Counter({
    name: 'seckill_requests_total',
    help: 'Seckill order requests by outcome (QUEUED, REPEAT, SOLD_OUT, DUPLICATE_ORDER, NOT_STARTED, ENDED, NOT_FOUND)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'seckill_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const ordersProcessed = new Counter({
    name: 'seckill_worker_results_total',
    help: 'Queued requests decided by the worker, by result (SUCCESS, FAIL) and whether it was a repeat delivery',
    labelNames: ['status', 'repeat'] as const,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'seckill_worker_batch_size',
    help: 'Order requests per database batch',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  // Summed over the processes of a scrape (prom-client's default): the sockets they hold together.
  const wsSockets = new Gauge({ name: 'seckill_ws_sockets', help: 'Result sockets held', registers: [registry] });
  const resultsPushed = new Counter({ name: 'seckill_ws_results_pushed_total', help: 'Results sent over WebSocket', registers: [registry] });
  const reconcilerRepairs = new Counter({
    name: 'seckill_reconciler_repairs_total',
    help: 'Repairs made by the reconciler (timedOut, reservationsSettled, reservationsReleased, reservationsExpired, stockResynced)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  // An api process forked on a shared port answers a scrape for all of them, through the primary.
  const scrape = cluster.isWorker ? joinClusterMetrics(registry) : () => registry.metrics();
  return { registry, scrape, reconcilerRepairs, seckillRequests, httpDuration, ordersProcessed, batchSize, wsSockets, resultsPushed };
}

export type Metrics = ReturnType<typeof createMetrics>;

const QUEUE_LABELS: Record<keyof QueueDepths, string> = {
  pendingOrders: 'pending_orders',
  deadOrders: 'dead_orders',
  payTimers: 'pay_timers',
  dueTimeouts: 'due_timeouts',
  deadTimeouts: 'dead_timeouts',
  alerts: 'alerts',
};

/**
 * `seckill_bus_queue_messages{queue}`: messages (batches) waiting on each durable queue, read from the bus
 * at every scrape. Broker-wide, so every process that reports it reports the same figure. When the bus
 * cannot answer, the scrape still succeeds, without these samples.
 */
export function reportQueueDepths(metrics: Metrics, read: () => Promise<QueueDepths>): void {
  new Gauge({
    name: 'seckill_bus_queue_messages',
    // The same broker-wide figure from each process that reports it: summed, it would count twice.
    aggregator: 'max',
    help: 'Messages waiting on each durable queue, broker-wide (pending_orders, dead_orders, pay_timers, due_timeouts, dead_timeouts, alerts)',
    labelNames: ['queue'] as const,
    registers: [metrics.registry],
    async collect() {
      this.reset();
      let depths: QueueDepths;
      try {
        depths = await read();
      } catch {
        return;
      }
      for (const [key, label] of Object.entries(QUEUE_LABELS) as [keyof QueueDepths, string][]) this.set({ queue: label }, depths[key]);
    },
  });
}

/** 127.0.0.0/8 and ::1, also written as IPv4 inside IPv6 (::ffff:127.0.0.1), as Node reports a dual-stack socket's peer. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return /^127(\.\d{1,3}){3}$/.test(v4) || /^(0{0,4}:){7}0{0,3}1$|^::1$/.test(address.toLowerCase());
}

/**
 * Whether a scrape may read the metrics. With a token: `Authorization: Bearer <token>` exactly, else
 * UNAUTHORIZED. Without one, the metrics are not open to the world: only a client on this machine
 * (every address given is loopback: the connection's, and the client's as named by a trusted proxy), else FORBIDDEN.
 */
export function metricsAccess(token: string | undefined, authorization: string | undefined, clientAddresses: readonly (string | undefined)[]): 'ok' | 'UNAUTHORIZED' | 'FORBIDDEN' {
  if (!token) return clientAddresses.length > 0 && clientAddresses.every(isLoopback) ? 'ok' : 'FORBIDDEN';
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(authorization ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'UNAUTHORIZED';
}

/** The answer's message when a scrape is refused. */
export const METRICS_REFUSED = {
  UNAUTHORIZED: 'The metrics need their bearer token (METRICS_TOKEN).',
  FORBIDDEN: 'Without METRICS_TOKEN the metrics answer only clients on this machine (loopback); set METRICS_TOKEN to scrape from elsewhere.',
} as const;
