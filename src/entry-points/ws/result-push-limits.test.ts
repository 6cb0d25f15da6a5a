/** The push port holds connections to the api's deadlines and cap; small settings here, no time asserted. */
import net from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenSigner } from '../../core/credentials.ts';
import type { OrderBus } from '../../core/ports/order-bus.ts';
import { connectionLimits, type ConnectionLimits } from '../connection-limits.ts';
import { createMetrics } from '../metrics.ts';
import { startResultPushServer, type ResultPushServer } from './result-push-server.ts';
import { systemTimers } from '../../adapters/timers/system-timers.ts';

const signer = createTokenSigner('l'.repeat(32), 3600);
const quietBus: Pick<OrderBus, 'subscribeResults'> = { subscribeResults: async () => ({ close: async () => undefined }) };
const token = signer.sign({ userId: 1, role: 'user' }, new Date()).token;

const servers: ResultPushServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function pushServer(connection: Partial<ConnectionLimits>, heartbeatMs?: number): Promise<ResultPushServer> {
  const push = await startResultPushServer(
    { signer, clock: { now: () => new Date() }, timers: systemTimers, bus: quietBus, store: { getResults: async () => [] }, logger: pino({ level: 'silent' }), metrics: createMetrics() },
    { host: '127.0.0.1', port: 0, connection: { ...connectionLimits(), checkIntervalMs: 50, ...connection }, ...(heartbeatMs ? { heartbeatMs } : {}) },
  );
  servers.push(push);
  return push;
}

/** A raw connection: what the server wrote, and a promise of its end. */
function rawConnection(port: number, write?: string) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  const ended = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
  const connected = new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  if (write !== undefined) void connected.then(() => socket.write(write));
  return { socket, ended, connected, received: () => received };
}

function openSocket(port: number, uuid: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/${uuid}?token=${token}`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('result push port: deadlines and cap', () => {
  it('a connection that sends nothing is answered 408 and closed', async () => {
    const push = await pushServer({ headersTimeoutMs: 200, requestTimeoutMs: 300 });
    expect(await rawConnection(push.port).ended).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('headers that never end are answered 408 and closed', async () => {
    const push = await pushServer({ headersTimeoutMs: 200, requestTimeoutMs: 300 });
    const ended = await rawConnection(push.port, `GET /uuid-partial-1?token=${token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n`).ended;
    expect(ended).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('headers past the size limit are answered 431 and closed', async () => {
    const push = await pushServer({});
    const ended = await rawConnection(push.port, `GET /uuid-big-0001 HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20 * 1024)}\r\n\r\n`).ended;
    expect(ended).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('past the connection cap a new connection is dropped; open result sockets count; a freed place is taken again', async () => {
    const push = await pushServer({ maxConnections: 3 });
    const held = [await openSocket(push.port, 'uuid-cap-a001'), await openSocket(push.port, 'uuid-cap-a002'), await openSocket(push.port, 'uuid-cap-a003')];
    const extra = rawConnection(push.port, `GET /uuid-cap-a004?token=${token} HTTP/1.1\r\nHost: x\r\n\r\n`);
    // Dropped before a byte is answered: no 101, no HTTP answer at all.
    expect(await extra.ended).toBe('');
    expect(held.map((ws) => ws.readyState)).toEqual([WebSocket.OPEN, WebSocket.OPEN, WebSocket.OPEN]);
    held[0]!.close();
    // The server sees the close a moment after the client: try until the place is free (a dropped try costs nothing).
    let again: WebSocket | undefined;
    for (let i = 0; i < 200 && !again; i++) again = await openSocket(push.port, 'uuid-cap-a005').catch(() => undefined);
    expect(again?.readyState).toBe(WebSocket.OPEN);
    for (const ws of [...held, again!]) ws.close();
  });

  it('an upgraded socket outlives the idle deadline of a plain connection (the heartbeat and the wait end it instead)', async () => {
    const push = await pushServer({ idleTimeoutMs: 100, keepAliveTimeoutMs: 100, headersTimeoutMs: 400, requestTimeoutMs: 400 });
    const ws = await openSocket(push.port, 'uuid-idle-0001');
    // A plain connection's headers deadline, longer than the idle one, passes while the result socket waits.
    await rawConnection(push.port, 'GET / HTTP/1.1\r\n').ended;
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('an upgraded socket that never answers the heartbeat is ended', async () => {
    const push = await pushServer({}, 100);
    const key = Buffer.from('0123456789abcdef').toString('base64');
    const raw = rawConnection(
      push.port,
      `GET /uuid-mute-0001?token=${token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    // It reads nothing and answers no ping: the server ends it.
    expect(await raw.ended).toMatch(/^HTTP\/1\.1 101 /);
  });
});
