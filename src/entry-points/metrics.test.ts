import os from 'node:os';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteDeps } from './http/routes.ts';
import { buildHttpServer } from './http/server.ts';
import { startMetricsServer } from './metrics-server.ts';
import { createMetrics, isLoopback, metricsAccess } from './metrics.ts';

/** An address of this machine that is not loopback, to be a client that is not "this machine" to a server. */
const outsideAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && !i.internal && i.family === 'IPv4')?.address;

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('who may read the metrics', () => {
  it('loopback is 127.0.0.0/8 and ::1, also as IPv4 inside IPv6; nothing else is', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['10.0.0.1', '192.0.2.2', '::ffff:10.0.0.1', 'fd00::1', '::', '0.0.0.0', '128.0.0.1', '1127.0.0.1', '127.0.0.1.example', '', undefined]) {
      expect(isLoopback(a), String(a)).toBe(false);
    }
  });

  it('without a token only clients whose every address is loopback; with one, exactly its bearer token from anywhere', () => {
    expect(metricsAccess(undefined, undefined, ['127.0.0.1'])).toBe('ok');
    expect(metricsAccess(undefined, undefined, ['::ffff:127.0.0.1', '127.0.0.1'])).toBe('ok');
    expect(metricsAccess(undefined, undefined, ['10.1.2.3'])).toBe('FORBIDDEN');
    // A proxy on this machine passing an outside scrape along, and a remote client naming itself 127.0.0.1.
    expect(metricsAccess(undefined, undefined, ['127.0.0.1', '203.0.113.9'])).toBe('FORBIDDEN');
    expect(metricsAccess(undefined, undefined, ['203.0.113.9', '127.0.0.1'])).toBe('FORBIDDEN');
    expect(metricsAccess(undefined, 'Bearer anything', [undefined])).toBe('FORBIDDEN');
    expect(metricsAccess(undefined, undefined, [])).toBe('FORBIDDEN');
    const token = 'scrape-token-0123456789';
    expect(metricsAccess(token, `Bearer ${token}`, ['203.0.113.9'])).toBe('ok');
    expect(metricsAccess(token, undefined, ['127.0.0.1'])).toBe('UNAUTHORIZED');
    expect(metricsAccess(token, `Bearer ${token}x`, ['127.0.0.1'])).toBe('UNAUTHORIZED');
  });

  it('the metrics port without a token answers a loopback client', async () => {
    const server = await startMetricsServer({ registry: createMetrics().registry, token: undefined }, { host: '127.0.0.1', port: 0 });
    closers.push(() => server.close());
    const r = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('seckill_');
  });

  it.skipIf(!outsideAddress)('the metrics port without a token refuses a client on a non-loopback address with 403 FORBIDDEN', async () => {
    const server = await startMetricsServer({ registry: createMetrics().registry, token: undefined }, { host: outsideAddress!, port: 0 });
    closers.push(() => server.close());
    const r = await fetch(`http://${outsideAddress}:${server.port}/metrics`);
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
  });

  it('the api port without a token: loopback reads; behind a trusted proxy, the client it names must be loopback too', async () => {
    const app = await buildHttpServer({ phone: { outbox: null }, admin: {} } as unknown as RouteDeps, { logger: pino({ level: 'silent' }), bodyLimitBytes: 1024, mode: 'embedded', metrics: createMetrics(), trustProxy: 1 });
    closers.push(() => app.close());
    await app.listen({ host: '0.0.0.0', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    const proxied = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(403);
    expect(await proxied.json()).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
    if (outsideAddress) {
      expect((await fetch(`http://${outsideAddress}:${port}/metrics`)).status).toBe(403);
      expect((await fetch(`http://${outsideAddress}:${port}/metrics`, { headers: { 'x-forwarded-for': '127.0.0.1' } })).status).toBe(403);
    }
  });
});
