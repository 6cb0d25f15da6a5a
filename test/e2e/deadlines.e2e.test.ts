/**
 * Every call that leaves the process has a deadline. A "black hole" (a port that accepts connections and
 * never answers) stands in for a stalled Redis or PostgreSQL; a client that trickles its request stands in
 * for a slowloris. Each must end in UNAVAILABLE (or a closed connection) within its deadline, never a hang.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase } from '../../src/adapters/database/pg-database.ts';
import { createRedisStockCache } from '../../src/adapters/stock-cache/redis-stock-cache.ts';
import { apiClient, bootTestApp, type TestApp } from '../support/app.ts';

function blackHole(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await fn();
    return { ms: Date.now() - started, error: null };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('deadlines on calls that leave the process', () => {
  let hole: Awaited<ReturnType<typeof blackHole>>;
  beforeAll(async () => {
    hole = await blackHole();
  });
  afterAll(async () => {
    await hole.close();
  });

  it('a cache command against a Redis that never answers fails UNAVAILABLE near its deadline', async () => {
    const cache = createRedisStockCache({
      url: `redis://127.0.0.1:${hole.port}`,
      keyPrefix: 'deadline:',
      redisOptions: { commandTimeout: 300, connectTimeout: 300, maxRetriesPerRequest: 1, lazyConnect: false },
    });
    try {
      const { ms, error } = await timed(() => cache.reserve(1, 1, 'uuid-deadline-1', Date.now()));
      expect(error).toMatchObject({ name: 'SeckillError', code: 'UNAVAILABLE' });
      expect(ms).toBeLessThan(10_000); // the deadline is 300 ms; without one this waits for ~20 reconnects
    } finally {
      await cache.close();
    }
  });

  it('a database that never answers the connection fails UNAVAILABLE near its connect deadline', async () => {
    const { ms, error } = await timed(() =>
      createPgDatabase({ url: `postgres://postgres@127.0.0.1:${hole.port}/x`, connectTimeoutMs: 300 }).then(async (db) => {
        try {
          await db.query('SELECT 1');
        } finally {
          await db.close();
        }
      }),
    );
    expect(error).toMatchObject({ name: 'SeckillError', code: 'UNAVAILABLE' });
    expect(ms).toBeLessThan(10_000);
  });
});

describe('HTTP request deadlines', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await bootTestApp('embedded', { HTTP_REQUEST_TIMEOUT_MS: '1000' });
  }, 60_000);
  afterAll(async () => {
    await app?.destroy();
  });

  it('a request that sends one byte of its body is answered 408 in the error shape and closed', async () => {
    const { hostname, port } = new URL(app.httpUrl);
    const reply = await new Promise<string>((resolve, reject) => {
      let data = '';
      const socket = net.connect(Number(port), hostname, () => {
        socket.write('POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
      });
      socket.on('data', (d) => (data += d.toString('utf8')));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      setTimeout(() => socket.destroy(), 20_000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    expect((await apiClient(app.httpUrl)('GET', '/api/health')).status).toBe(200);
  });
});
