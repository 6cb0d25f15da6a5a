import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeckillError } from '../../core/errors.ts';
import { createMetrics } from '../metrics.ts';
import type { Buy, BuyRequest } from './buy.ts';
import { createBuyFastLane } from './buy-fast-lane.ts';

const log = { warn: () => undefined, error: () => undefined };

describe('the buy fast lane', () => {
  const seen: BuyRequest[] = [];
  let handedOn = 0;
  let closing = false;
  let fail: Error | null = null;
  const buy: Buy = Object.assign(
    async (req: BuyRequest) => {
      seen.push(req);
      if (fail) throw fail;
      return { status: 200 as const, body: { uuid: 'u', status: 'QUEUED' as const } };
    },
    { requestsOf: () => 0 },
  );
  const lane = createBuyFastLane({
    buy,
    bodyLimitBytes: 64,
    ipOf: (req: IncomingMessage) => `ip-of-${req.socket.remoteAddress}`,
    closing: () => closing,
    metrics: createMetrics(),
    log,
    headers: { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' },
  });
  const server = createServer((req, res) => {
    if (lane(req, res)) return;
    handedOn++;
    req.resume();
    req.on('end', () => res.writeHead(299).end());
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  interface Sent { method?: string; path?: string; headers?: Record<string, string>; body?: string; chunked?: boolean }
  const send = (opts: Sent) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; text: string }>((resolve, reject) => {
      const body = opts.body ?? '{"seckillGoodId":1}';
      const length: Record<string, string> = opts.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(Buffer.byteLength(body)) };
      const headers: Record<string, string> = { 'content-type': 'application/json', ...length, ...opts.headers };
      const req = request({ host: '127.0.0.1', port, method: opts.method ?? 'POST', path: opts.path ?? '/api/seckill/orders', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('takes the plain buy request: JSON body of a declared length, answered with the API headers', async () => {
    const r = await send({ headers: { authorization: 'Bearer t' } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ uuid: 'u', status: 'QUEUED' });
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['cache-control']).toBe('no-store');
    const last = seen.at(-1)!;
    expect(last.body).toEqual({ seckillGoodId: 1 });
    expect(last.headers.authorization).toBe('Bearer t');
    expect(last.ip).toBe('ip-of-127.0.0.1');
    expect(handedOn).toBe(0);
    expect(lane.taken).toBe(1);
  });

  it('hands fastify everything else, untouched: other paths and methods, a query, other media types, no length, Expect, too large, while closing', async () => {
    const cases: Sent[] = [
      { path: '/api/seckill/orders?x=1' },
      { path: '/api/seckill/orders/' },
      { method: 'PUT' },
      { headers: { 'content-type': 'application/json; charset=UTF-8' } },
      { headers: { 'content-type': 'text/plain' } },
      { chunked: true },
      { headers: { expect: '100-continue' } },
      { body: `{"seckillGoodId":1,"uuid":"${'x'.repeat(64)}"}` },
      { body: '' },
    ];
    const before = seen.length;
    for (const [i, c] of cases.entries()) {
      const r = await send(c);
      expect(r.status, JSON.stringify(c)).toBe(299);
      expect(handedOn).toBe(i + 1);
    }
    closing = true;
    try {
      expect((await send({})).status).toBe(299);
    } finally {
      closing = false;
    }
    expect(seen.length).toBe(before);
  });

  it('a body that is not JSON, or that poisons a prototype, is INVALID_INPUT and never reaches the route', async () => {
    const before = seen.length;
    for (const body of ['{"seckillGoodId":', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}']) {
      const r = await send({ body });
      expect(r.status, body).toBe(400);
      expect(JSON.parse(r.text)).toEqual({ error: { code: 'INVALID_INPUT', message: 'The request body is not valid JSON.' } });
    }
    expect(seen.length).toBe(before);
  });

  it('what the route throws is answered in the error shape: its code and status, Retry-After, never a stack', async () => {
    fail = new SeckillError('RATE_LIMITED', 'slow down', { details: { retryAfterSeconds: 3 } });
    try {
      const limited = await send({});
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBe('3');
      expect(JSON.parse(limited.text).error.code).toBe('RATE_LIMITED');
      fail = new Error('boom at /secret/path');
      const broken = await send({});
      expect(broken.status).toBe(500);
      expect(broken.text).not.toContain('boom');
      expect(JSON.parse(broken.text)).toEqual({ error: { code: 'INTERNAL', message: 'Something went wrong on our side.' } });
    } finally {
      fail = null;
    }
  });
});
