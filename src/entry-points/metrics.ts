/** Prometheus metrics of one process (its own registry, so several apps can live in one test process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaults) collectDefaultMetrics({ register: registry, prefix: 'seckill_process_' });
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
  const wsSockets = new Gauge({ name: 'seckill_ws_sockets', help: 'Result sockets held', registers: [registry] });
  const resultsPushed = new Counter({ name: 'seckill_ws_results_pushed_total', help: 'Results sent over WebSocket', registers: [registry] });
  const reconcilerRepairs = new Counter({
    name: 'seckill_reconciler_repairs_total',
    help: 'Repairs made by the reconciler (timedOut, reservationsSettled, reservationsReleased, reservationsExpired, stockResynced)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  return { registry, reconcilerRepairs, seckillRequests, httpDuration, ordersProcessed, batchSize, wsSockets, resultsPushed };
}

export type Metrics = ReturnType<typeof createMetrics>;
