import Fastify, { type RouteHandlerMethod } from 'fastify';
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
