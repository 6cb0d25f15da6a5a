import net from 'node:net';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createMetrics } from '../metrics.ts';
import type { RouteDeps } from './routes.ts';
import { buildHttpServer } from './server.ts';

describe('the HTTP server', () => {
  it('a request reaching it while it closes answers 503 UNAVAILABLE in the error shape', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let started: () => void = () => undefined;
    const slowStarted = new Promise<void>((r) => (started = r));
    const app = await buildHttpServer({ phone: { outbox: null } } as unknown as RouteDeps, {
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
});
