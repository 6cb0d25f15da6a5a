/**
 * The buy fast lane: POST /api/seckill/orders answered straight from node:http, before fastify builds its
 * request and reply, runs its hooks and serialises. In a flash sale nearly every request is this one, and
 * most are answered from process memory (sold out, not started), so the framework's own work per request was
 * a large part of the answer's CPU (measured in docs/benchmark.md).
 *
 * It takes only the plain case: the exact path, a JSON body of a declared length within the body limit, no
 * `Expect`, and a process that is not draining. Anything else goes to fastify's route, which calls the same
 * `buy` (buy.ts), so both answer alike: same statuses, bodies and headers, the same metrics and logs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import secureJson from 'secure-json-parse';
import { isSeckillError } from '../../core/errors.ts';
import type { Metrics } from '../metrics.ts';
import type { RequestLog } from './auth.ts';
import type { Buy, BuyAnswer } from './buy.ts';
import { BODY_NOT_JSON, errorBody, internalErrorAnswer, seckillErrorAnswer, STATUS_OF, type ErrorAnswer } from './http-errors.ts';

export const BUY_ROUTE = '/api/seckill/orders';

export interface BuyFastLaneOptions {
  buy: Buy;
  bodyLimitBytes: number;
  /** The client address as fastify's req.ip would give it (the same trusted proxies). */
  ipOf: (req: IncomingMessage) => string;
  /** True while the server drains: fastify answers those requests (503). */
  closing: () => boolean;
  metrics: Metrics;
  log: RequestLog;
  /** Every answer's headers besides Content-Type and Content-Length (nosniff, no-store). */
  headers: Readonly<Record<string, string>>;
}

export interface BuyFastLane {
  /** True when it took the request; false: hand it to fastify untouched. */
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests it took since start (tests check it is in use). */
  readonly taken: number;
}

export function createBuyFastLane(opts: BuyFastLaneOptions): BuyFastLane {
  let taken = 0;
  const lane = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST' || req.url !== BUY_ROUTE || opts.closing()) return false;
    const type = req.headers['content-type'];
    if (type !== 'application/json' && type !== 'application/json; charset=utf-8') return false;
    if (req.headers.expect !== undefined || req.headers['transfer-encoding'] !== undefined) return false;
    const declared = req.headers['content-length'];
    const length = declared === undefined ? NaN : Number(declared);
    if (!(length > 0 && length <= opts.bodyLimitBytes)) return false;

    taken++;
    const started = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
      void answer(text, req).then((a) => send(res, a, started));
    });
    // A body that stops arriving: the socket is gone or the server's request timeout answers it.
    req.on('error', () => undefined);
    return true;
  };
  return Object.defineProperty(lane, 'taken', { get: () => taken }) as BuyFastLane;

  async function answer(text: string, req: IncomingMessage): Promise<BuyAnswer | ErrorAnswer> {
    let body: unknown;
    try {
      body = secureJson.parse(text);
    } catch {
      return { status: STATUS_OF.INVALID_INPUT, body: errorBody('INVALID_INPUT', BODY_NOT_JSON) };
    }
    try {
      return await opts.buy({ headers: req.headers, log: opts.log, body, ip: opts.ipOf(req) });
    } catch (err) {
      return isSeckillError(err) ? seckillErrorAnswer(err, opts.log) : internalErrorAnswer(err, opts.log);
    }
  }

  function send(res: ServerResponse, a: BuyAnswer | ErrorAnswer, started: number): void {
    if (res.destroyed) return;
    const json = JSON.stringify(a.body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(json),
      ...opts.headers,
    };
    if ('retryAfterSeconds' in a && a.retryAfterSeconds) headers['retry-after'] = String(a.retryAfterSeconds);
    res.writeHead(a.status, headers);
    res.end(json);
    opts.metrics.httpDuration.observe({ method: 'POST', route: BUY_ROUTE, status: String(a.status) }, (performance.now() - started) / 1000);
  }
}
