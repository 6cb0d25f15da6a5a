/** The WebSocket result push over real sockets, in each mode. */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { registerOverHttp } from '../support/buyers.ts';
import { apiClient, bootTestApp, newUuid, type ApiClient, type Mode, type TestApp, loginAdmin } from '../support/app.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');

/** Open a socket; resolves with the frames it got and how it closed. */
function watch(url: string): { opened: Promise<void>; done: Promise<{ frames: any[]; code: number }> } {
  const socket = new WebSocket(url);
  const frames: any[] = [];
  socket.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString('utf8'))));
  return {
    opened: new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    }),
    done: new Promise((resolve) => socket.once('close', (code) => resolve({ frames, code }))),
  };
}

/** A raw upgrade request (the path is sent exactly as given, malformed percent-encoding included); resolves with the raw reply. */
function rawUpgrade(wsUrl: string, path: string): Promise<Buffer> {
  const { hostname, port } = new URL(wsUrl);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', (d) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      const body = all.indexOf('\r\n\r\n');
      // Done once a close frame (0x88) follows the handshake reply.
      if (body >= 0 && all.indexOf(0x88, body) >= 0) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    setTimeout(() => socket.destroy(), 2000);
  });
}

describe.each<Mode>(['embedded', 'services'])('result push over WebSocket (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;
  let goodId: number;
  const buyer = async () => {
    const r = await registerOverHttp(api, { phone: `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`, password: 'tulip-orbit-92' });
    return r.body.token as string;
  };

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode);
    api = apiClient(app.httpUrl);
    const admin = await loginAdmin(api);
    const now = Date.now();
    goodId = (
      await api('POST', '/api/admin/seckill/goods', {
        token: admin,
        body: { name: 'Push good', price: 100, seckillPrice: 1, stock: 100, startAt: new Date(now - 1000).toISOString(), endAt: new Date(now + 3_600_000).toISOString() },
      })
    ).body.id;
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  it.skipIf(skip)('a socket opened before the request receives its SUCCESS, then closes normally', async () => {
    const token = await buyer();
    const uuid = newUuid();
    const socket = watch(`${app.wsUrl}/${uuid}?token=${token}`);
    await socket.opened;
    expect((await api('POST', '/api/seckill/orders', { token, body: { seckillGoodId: goodId, uuid } })).status).toBe(200);
    const { frames, code } = await socket.done;
    expect(code).toBe(1000);
    expect(frames).toEqual([{ uuid, status: 'SUCCESS', orderNo: expect.any(String), seckillGoodId: goodId }]);
  });

  it.skipIf(skip)('a socket opened after the result is ready still receives it', async () => {
    const token = await buyer();
    const uuid = newUuid();
    await api('POST', '/api/seckill/orders', { token, body: { seckillGoodId: goodId, uuid } });
    for (let i = 0; i < 200 && (await app.adapters.store.getResult(uuid)) === null; i++) await new Promise((r) => setTimeout(r, 20));
    const { frames } = await watch(`${app.wsUrl}/${uuid}?token=${token}`).done;
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ uuid, status: 'SUCCESS' });
  });

  it.skipIf(skip)('malformed upgrade paths are refused with 4400 and the process keeps serving', async () => {
    for (const path of ['/%', '/%E0%A4%A', '/%zz?token=x', '//%%%', '/' + 'a'.repeat(70)]) {
      const reply = await rawUpgrade(app.wsUrl!, path);
      expect(reply.toString('latin1')).toMatch(/^HTTP\/1\.1 101/);
      // The close frame carries the code in its first two payload bytes: 0x88, length, code.
      const close = reply.indexOf(0x88);
      expect(close).toBeGreaterThan(0);
      expect(reply.readUInt16BE(close + 2)).toBe(4400);
    }
    expect((await api('GET', '/api/health')).status).toBe(200);
    expect((await watch(`${app.wsUrl}/${newUuid()}?token=nope`).done).code).toBe(4401);
  });

  it.skipIf(skip)('a bad token closes 4401 and another buyer’s uuid closes 4403 without the result', async () => {
    expect((await watch(`${app.wsUrl}/${newUuid()}?token=nope`).done).code).toBe(4401);
    expect((await watch(`${app.wsUrl}/${newUuid()}`).done).code).toBe(4401);
    const owner = await buyer();
    const other = await buyer();
    const uuid = newUuid();
    await api('POST', '/api/seckill/orders', { token: owner, body: { seckillGoodId: goodId, uuid } });
    for (let i = 0; i < 200 && (await app.adapters.store.getResult(uuid)) === null; i++) await new Promise((r) => setTimeout(r, 20));
    const { frames, code } = await watch(`${app.wsUrl}/${uuid}?token=${other}`).done;
    expect(code).toBe(4403);
    expect(frames).toEqual([]);
  });
});
