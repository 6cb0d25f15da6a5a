/**
 * The load generator: autocannon, one request per buyer in turn (each its own token and request id),
 * `connections` at once, one request in flight per connection. Besides autocannon's latency histogram it
 * keeps answers per time bucket (the plot), the status codes, and which buyers were answered 200 (QUEUED):
 * the invariants are checked against exactly those.
 */
import autocannon from 'autocannon';

export interface Buyer {
  userId: number;
  token: string;
}

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  connections: number;
  /** Requests in all; buyer i % buyers.length sends request i. */
  amount: number;
  buyers: readonly Buyer[];
  seckillGoodId: number;
  /** The request id buyer i sends (deterministic, so sockets can be opened for it beforehand). */
  uuidOf(buyerIndex: number): string;
  bucketMs?: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Buyer indexes answered 200. */
  acceptedBuyers: number[];
  /** Epoch ms (sub-ms precision) of the first request and of the last 200 answer. */
  startedAt: number;
  lastAcceptAt: number | null;
  /** Answers per bucket, all and 200 only. */
  series: { bucketMs: number; all: number[]; accepted: number[] };
}

export const epochMs = (): number => performance.timeOrigin + performance.now();

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const bucketMs = opts.bucketMs ?? 100;
  const n = opts.buyers.length;
  const all: number[] = [];
  const accepted: number[] = [];
  const acceptedBuyers: number[] = [];
  let lastAcceptAt: number | null = null;
  let next = 0;
  let started = 0;

  const bump = (series: number[], at: number) => {
    const b = Math.floor((at - started) / bucketMs);
    while (series.length <= b) series.push(0);
    series[b]!++;
  };

  const instance = autocannon({
    url: opts.url,
    connections: opts.connections,
    pipelining: 1,
    amount: opts.amount,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/api/seckill/orders',
        setupRequest(req: Record<string, unknown>, context: Record<string, unknown>) {
          const i = next++ % n;
          context.buyer = i;
          const buyer = opts.buyers[i]!;
          req.headers = { 'content-type': 'application/json', authorization: `Bearer ${buyer.token}` };
          req.body = `{"seckillGoodId":${opts.seckillGoodId},"uuid":"${opts.uuidOf(i)}"}`;
          return req;
        },
        onResponse(status: number, _body: string, context: Record<string, unknown>) {
          if (status !== 200) return;
          const at = epochMs();
          lastAcceptAt = at;
          acceptedBuyers.push(context.buyer as number);
          bump(accepted, at);
        },
      },
    ],
  });
  started = epochMs();
  let lastResponseAt = started;
  instance.on('response', () => {
    lastResponseAt = epochMs();
    bump(all, lastResponseAt);
  });

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance.once('done', resolve);
    instance.once('error', reject);
  });
  // autocannon reports 'done' on its next one-second sample tick, up to a second after the last answer:
  // the run is timed from the first request to the last answer instead.
  const seconds = (lastResponseAt - started) / 1000;
  const statuses: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = Number(count);
  const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
  const l = result.latency;
  return {
    requests,
    seconds,
    rps: requests / seconds,
    latencyMs: { mean: l.mean, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max },
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    acceptedBuyers,
    startedAt: started,
    lastAcceptAt,
    series: { bucketMs, all, accepted },
  };
}
