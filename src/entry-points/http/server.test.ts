import net from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
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
    const app = await buildHttpServer({} as RouteDeps, {
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
    await slowStarted;
    const closing = app.close();
    await new Promise((r) => setTimeout(r, 50));
    socket.write('GET /api/seckill/goods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    release();
    await ended;
    await closing;
    const answers = raw.split(/(?=HTTP\/1\.1 )/);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(answers[1]).toMatch(/^HTTP\/1\.1 503/);
    expect(JSON.parse(answers[1]!.slice(answers[1]!.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String) } });
  });

  it('past the connection cap a new connection is dropped before any answer (the same cap as the result push port)', async () => {
    const app = await buildHttpServer({} as RouteDeps, {
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
});
