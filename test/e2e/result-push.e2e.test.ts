/** The WebSocket result push over real sockets, in each mode. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { apiClient, bootTestApp, newUuid, type ApiClient, type Mode, type TestApp } from '../support/app.ts';
import { servicesAvailable } from '../support/services.ts';

const servicesUp = await servicesAvailable('postgres', 'redis', 'rabbitmq');

/** Open a socket; resolves with the frames it got and how it closed. */
function watch(url: string): { opened: Promise<void>; done: Promise<{ frames: any[]; code: number }> } {
  const socket = new WebSocket(url);
  const frames: any[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data))));
  return {
    opened: new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    }),
    done: new Promise((resolve) => socket.once('close', (code) => resolve({ frames, code }))),
  };
}

describe.each<Mode>(['embedded', 'services'])('result push over WebSocket (%s)', (mode) => {
  const skip = mode === 'services' && !servicesUp;
  let app: TestApp;
  let api: ApiClient;
  let goodId: number;
  const buyer = async () => {
    const r = await api('POST', '/api/auth/register', { body: { phone: `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`, password: 'password-123' } });
    return r.body.token as string;
  };

  beforeAll(async () => {
    if (skip) return;
    app = await bootTestApp(mode);
    api = apiClient(app.httpUrl);
    const admin = (await api('POST', '/api/auth/login', { body: { phone: '13800000000', password: 'admin-pass-123' } })).body.token;
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
