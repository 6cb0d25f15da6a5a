import Fastify, { type RouteHandlerMethod } from 'fastify';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SeckillError } from '../../core/errors.ts';
import { RATE_LIMITED_MESSAGE, handleError, sendRateLimited } from './http-errors.ts';

async function answers(routes: Record<string, RouteHandlerMethod>) {
  const app = Fastify();
  app.setErrorHandler(handleError);
  for (const [url, handler] of Object.entries(routes)) app.get(url, handler);
  const out: Record<string, { status: number; type: unknown; length: unknown; retryAfter: unknown; body: string }> = {};
  for (const url of Object.keys(routes)) {
    const r = await app.inject({ method: 'GET', url });
    out[url] = { status: r.statusCode, type: r.headers['content-type'], length: r.headers['content-length'], retryAfter: r.headers['retry-after'], body: r.body };
  }
  await app.close();
  return out;
}

describe('the rate-limited answer', () => {
  it('is the one a thrown RATE_LIMITED gets, Retry-After included', async () => {
    for (const wait of [1, 3]) {
      const r = await answers({
        '/thrown': async () => {
          throw new SeckillError('RATE_LIMITED', RATE_LIMITED_MESSAGE, { details: { retryAfterSeconds: wait } });
        },
        '/sent': async (_req, reply) => sendRateLimited(reply, wait),
      });
      expect(r['/sent']).toEqual(r['/thrown']);
      expect(r['/sent']!.retryAfter).toBe(String(wait));
    }
  });
});

describe('a body that does not arrive whole', () => {
  async function post(payload: () => Readable, headers: Record<string, string> = {}) {
    const app = Fastify();
    app.setErrorHandler(handleError);
    let handled = false;
    app.post('/buy', async () => {
      handled = true;
      return { ok: true };
    });
    const r = await app.inject({ method: 'POST', url: '/buy', headers: { 'content-type': 'application/json', ...headers }, payload: payload() });
    await app.close();
    return { status: r.statusCode, code: r.json<{ error?: { code?: string } }>().error?.code, handled };
  }

  it('a body stream that breaks off → 408, send it again; never INVALID_INPUT, the route never runs', async () => {
    const broken = () =>
      new Readable({
        read() {
          this.push('{"seckillGoodId": 1, "uu');
          this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
        },
      });
    expect(await post(broken)).toEqual({ status: 408, code: 'INVALID_INPUT', handled: false });
  });

  it('a body shorter than its Content-Length → 408; a whole body that is not JSON → 400 INVALID_INPUT', async () => {
    expect(await post(() => Readable.from(['{"a":1}']), { 'content-length': '40' })).toMatchObject({ status: 408, handled: false });
    expect(await post(() => Readable.from(['{"a":']))).toEqual({ status: 400, code: 'INVALID_INPUT', handled: false });
  });
});
