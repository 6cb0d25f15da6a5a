import { describe, expect, it } from 'vitest';
import { createMetricsGatherer, type Fork, type MetricsJson } from './cluster-metrics.ts';
import { createMetrics, reportQueueDepths } from './metrics.ts';

const DEADLINE_MS = 60;
const depths = { pendingOrders: 7, deadOrders: 0, payTimers: 0, dueTimeouts: 0, deadTimeouts: 0, alerts: 0 };

/** An api process's figures: `gets` answers counted, `sockets` held, and the broker-wide queue depths. */
async function figures(gets: number, sockets = 0): Promise<MetricsJson> {
  const m = createMetrics();
  for (let i = 0; i < gets; i++) m.httpDuration.observe({ method: 'GET', route: '/api/seckill/goods', status: '200' }, 0.003);
  m.seckillRequests.inc({ outcome: 'QUEUED' }, gets);
  m.wsSockets.set(sockets);
  reportQueueDepths(m, async () => depths);
  return m.registry.getMetricsAsJSON();
}

function valueOf(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
const gets = (text: string) => valueOf(text, 'seckill_http_request_duration_seconds_count', 'method="GET",route="/api/seckill/goods",status="200"');
const processes = (text: string) => ({
  answered: valueOf(text, 'seckill_scrape_processes', 'state="answered"'),
  late: valueOf(text, 'seckill_scrape_processes', 'state="late"'),
  missing: valueOf(text, 'seckill_scrape_processes', 'state="missing"'),
});

/** Forks whose answers the test controls: `answering` false keeps one silent. */
function setUp(own: () => Promise<MetricsJson>, forks: { id: number; figures: () => Promise<MetricsJson> }[]) {
  const answering = new Map(forks.map((f) => [f.id, true]));
  const starting = new Set<number>();
  let asked = 0;
  const running = new Set(forks.map((f) => f.id));
  const gatherer = createMetricsGatherer({
    own,
    deadlineMs: DEADLINE_MS,
    forks: () =>
      forks
        .filter((f) => running.has(f.id))
        .map((f): Fork => ({
          id: f.id,
          pid: 1000 + f.id,
          starting: starting.has(f.id),
          ask: (requestId) => {
            asked++;
            if (answering.get(f.id)) void f.figures().then((j) => setImmediate(() => gatherer.report(f.id, requestId, j)));
            return true;
          },
        })),
  });
  const exit = (id: number) => {
    running.delete(id);
    gatherer.retire(id);
  };
  return { gatherer, answering, starting, exit, asked: () => asked };
}

describe('the sum over the api processes of a cluster', () => {
  it('adds every fork and the primary once: counters and histograms summed, sockets summed, the broker-wide depth not', async () => {
    const { gatherer } = setUp(() => figures(0, 3), [
      { id: 1, figures: () => figures(20) },
      { id: 2, figures: () => figures(30, 1) },
    ]);
    const text = await gatherer.gather();
    expect(gets(text)).toBe(50);
    expect(valueOf(text, 'seckill_requests_total', 'outcome="QUEUED"')).toBe(50);
    expect(valueOf(text, 'seckill_ws_sockets')).toBe(4);
    expect(valueOf(text, 'seckill_bus_queue_messages', 'queue="pending_orders"')).toBe(7);
    expect(processes(text)).toEqual({ answered: 3, late: 0, missing: 0 });
    expect(text).not.toContain('# seckill:');
  });

  it('a silent fork does not hold the scrape: its last figures are used, the answer names it; one never heard from is missing', async () => {
    const { gatherer, answering } = setUp(() => figures(0), [
      { id: 1, figures: () => figures(20) },
      { id: 2, figures: () => figures(30) },
      { id: 3, figures: () => figures(5) },
    ]);
    answering.set(3, false);
    const first = await gatherer.gather();
    expect(gets(first)).toBe(50);
    expect(processes(first)).toEqual({ answered: 3, late: 0, missing: 1 });
    expect(first).toContain('pid 1003 gave no figures');

    answering.set(2, false);
    const started = Date.now();
    const second = await gatherer.gather();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(gets(second)).toBe(50);
    expect(processes(second)).toEqual({ answered: 2, late: 1, missing: 1 });
    expect(second).toMatch(/pid 1002 gave no figures within 60 ms; its last figures are used/);
  });

  it('an answer that comes after the deadline is the fork\'s last figures for the next scrape', async () => {
    let slowGets = 10;
    const { gatherer } = setUp(() => figures(0), [
      { id: 1, figures: () => figures(1) },
      { id: 2, figures: () => new Promise((r) => setTimeout(() => r(figures(slowGets)), DEADLINE_MS * 2)) },
    ]);
    expect(processes(await gatherer.gather())).toEqual({ answered: 2, late: 0, missing: 1 });
    await new Promise((r) => setTimeout(r, DEADLINE_MS * 3));
    slowGets = 20;
    const text = await gatherer.gather();
    expect(processes(text)).toEqual({ answered: 2, late: 1, missing: 0 });
    expect(gets(text)).toBe(11);
  });

  it('a fork that exited leaves its counters in the sums, not its gauges, and is not reported missing', async () => {
    const { gatherer, exit } = setUp(() => figures(0), [
      { id: 1, figures: () => figures(20, 5) },
      { id: 2, figures: () => figures(30, 1) },
      { id: 3, figures: () => figures(7, 1) },
    ]);
    expect(gets(await gatherer.gather())).toBe(57);
    exit(2);
    exit(3);
    // Twice, so that the retired figures are summed into one part meanwhile.
    for (let i = 0; i < 2; i++) {
      const text = await gatherer.gather();
      expect(gets(text)).toBe(57);
      expect(valueOf(text, 'seckill_ws_sockets')).toBe(5);
      expect(processes(text)).toEqual({ answered: 2, late: 0, missing: 0 });
    }
  });

  it('a fork that exits while a scrape waits for it is counted once', async () => {
    const { gatherer, exit, answering } = setUp(() => figures(0), [
      { id: 1, figures: () => figures(20) },
      { id: 2, figures: () => figures(30) },
    ]);
    expect(gets(await gatherer.gather())).toBe(50);
    answering.set(2, false);
    const waiting = gatherer.gather();
    setTimeout(() => exit(2), 5);
    const text = await waiting;
    expect(gets(text)).toBe(50);
    expect(processes(text)).toEqual({ answered: 2, late: 0, missing: 0 });
  });

  it('scrapes that arrive together share one round of asking', async () => {
    const { gatherer, asked } = setUp(() => figures(0), [{ id: 1, figures: () => figures(3) }]);
    const texts = await Promise.all([gatherer.gather(), gatherer.gather(), gatherer.gather()]);
    expect(asked()).toBe(1);
    expect(texts.map(gets)).toEqual([3, 3, 3]);
  });

  it("the primary's own figures that do not come in time do not hold the scrape either: its last ones stand in", async () => {
    let hangs = true;
    const { gatherer } = setUp(() => (hangs ? new Promise<MetricsJson>(() => undefined) : figures(4)), [{ id: 1, figures: () => figures(3) }]);
    const never = await gatherer.gather();
    expect(gets(never)).toBe(3);
    expect(processes(never)).toEqual({ answered: 1, late: 0, missing: 1 });
    expect(never).toContain(`primary process (pid ${process.pid}) gave no figures of its own within 60 ms\n`);
    hangs = false;
    expect(gets(await gatherer.gather())).toBe(7);
    hangs = true;
    const late = await gatherer.gather();
    expect(gets(late)).toBe(7);
    expect(processes(late)).toEqual({ answered: 1, late: 1, missing: 0 });
    expect(late).toContain('gave no figures of its own within 60 ms; its last figures are used');
  });

  it('a fork still starting is neither asked nor waited for: missing, and said to be starting', async () => {
    const { gatherer, starting, asked } = setUp(() => figures(0), [
      { id: 1, figures: () => figures(3) },
      { id: 2, figures: () => figures(5) },
    ]);
    starting.add(2);
    const text = await gatherer.gather();
    expect(asked()).toBe(1);
    expect(gets(text)).toBe(3);
    expect(processes(text)).toEqual({ answered: 2, late: 0, missing: 1 });
    expect(text).toContain('api process pid 1002 is starting');
  });

  it('event-loop lag is the worst process\'s, not an average that hides it', async () => {
    const json = await createMetrics({ defaults: true }).registry.getMetricsAsJSON();
    const aggregatorOf = (name: string) => json.find((m) => m.name === name)?.aggregator;
    expect(aggregatorOf('seckill_process_nodejs_eventloop_lag_p99_seconds')).toBe('max');
    expect(aggregatorOf('seckill_process_nodejs_eventloop_lag_min_seconds')).toBe('min');
    expect(aggregatorOf('seckill_process_process_max_fds')).toBe('min');
    expect(aggregatorOf('seckill_process_process_cpu_seconds_total')).toBe('sum');
  });
});
