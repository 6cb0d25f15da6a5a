import net from 'node:net';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { connectionLimits } from '../connection-limits.ts';
import { createMetrics } from '../metrics.ts';
import type { RouteDeps } from './routes.ts';
import { buildHttpServer } from './server.ts';

describe('the HTTP server', () => {
  it('a request reaching it while it closes answers 503 UNAVAILABLE in the error shape', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let started: () => void = () => undefined;
    const slowStarted = new Promise<void>((r) => (started = r));
    const app = await buildHttpServer({ phone: { outbox: null }, admin: {} } as unknown as RouteDeps, {
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 1024,
      mode: 'embedded',
      metrics: createMetrics(),
      extend: (server) => {
        server.get('/slow', async () => {
          started();
          await held;
          return { ok: true };
        });
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    // A connection busy with a slow request stays open while the server closes; a second request on it arrives then.
    let raw = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
    const ended = new Promise<void>((r) => socket.on('close', () => r()));
    let secondArrived: () => void = () => undefined;
    const second = new Promise<void>((r) => (secondArrived = r));
    app.server.on('request', (req: { url?: string }) => {
      if (req.url === '/api/seckill/goods') secondArrived();
    });
    await slowStarted;
    const closing = app.close();
    // The server stops listening only after its preClose hooks ran: from then on it is draining.
    await vi.waitUntil(() => !app.server.listening, { timeout: 10_000, interval: 5 });
    socket.write('GET /api/seckill/goods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await second;
    release();
    await ended;
    await closing;
    const answers = raw.split(/(?=HTTP\/1\.1 )/);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(answers[1]).toMatch(/^HTTP\/1\.1 503/);
    expect(JSON.parse(answers[1]!.slice(answers[1]!.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String) } });
  });

  it('past the connection cap a new connection is dropped before any answer (the same cap as the result push port)', async () => {
    const app = await buildHttpServer({ phone: { outbox: null }, admin: {} } as unknown as RouteDeps, {
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 1024,
      mode: 'embedded',
      metrics: createMetrics(),
      connection: { ...connectionLimits(), maxConnections: 2 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const ask = () => {
      let raw = '';
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /api/ready HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('error', () => undefined);
      const answered = new Promise<string>((resolve) => {
        socket.on('data', (d: Buffer) => {
          raw += d.toString('latin1');
          if (raw.includes('\r\n\r\n')) resolve(raw);
        });
        socket.on('close', () => resolve(raw));
      });
      return { socket, answered };
    };
    try {
      // Two keep-alive connections, each answered (so the server holds both), then a third.
      const held = [ask(), ask()];
      for (const h of held) expect(await h.answered).toMatch(/^HTTP\/1\.1 (200|503) /);
      expect(await ask().answered).toBe('');
      for (const h of held) h.socket.destroy();
    } finally {
      await app.close();
    }
  });

  it('every JSON answer, errors included, says nosniff and no-store; a route that sets its own caching keeps it', async () => {
    const app = await buildHttpServer({ phone: { outbox: null }, admin: {} } as unknown as RouteDeps, {
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 1024,
      mode: 'embedded',
      metrics: createMetrics(),
      extend: (server) => {
        server.get('/cached.js', async (_req, reply) => reply.header('Cache-Control', 'public, max-age=300').type('text/javascript').send('1'));
      },
    });
    try {
      for (const url of ['/api/health', '/api/openapi.json', '/api/nope', '/%', '/metrics']) {
        const r = await app.inject({ url });
        expect(r.headers['x-content-type-options'], url).toBe('nosniff');
        expect(r.headers['cache-control'], url).toBe('no-store');
      }
      const big = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: 'x'.repeat(2048) });
      expect(big.statusCode).toBe(413);
      expect([big.headers['x-content-type-options'], big.headers['cache-control']]).toEqual(['nosniff', 'no-store']);
      // Refused by Node before fastify sees a request (headers too large): written by hand, with the same headers.
      await app.listen({ host: '127.0.0.1', port: 0 });
      const port = (app.server.address() as { port: number }).port;
      const raw = await new Promise<string>((resolve) => {
        let data = '';
        const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`));
        socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(data));
      });
      expect(raw).toMatch(/^HTTP\/1\.1 431 [^]*X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n/);
      const cached = await app.inject({ url: '/cached.js' });
      expect([cached.headers['x-content-type-options'], cached.headers['cache-control']]).toEqual(['nosniff', 'public, max-age=300']);
    } finally {
      await app.close();
    }
  });
});
