import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createTokenSigner } from '../../core/credentials.ts';
import type { OrderBus, Subscription } from '../../core/ports/order-bus.ts';
import type { SeckillResult } from '../../core/model.ts';
import { createMetrics } from '../metrics.ts';
import { startResultPushServer } from './result-push-server.ts';
import { parseTarget } from './socket-target.ts';
import { systemTimers } from '../../adapters/timers/system-timers.ts';

describe('parseTarget (the upgrade path, read without new URL)', () => {
  it('reads the uuid and the token, percent-encoded or not, as URLSearchParams would', () => {
    expect(parseTarget('/abc-DEF_123?token=a.b-c_d')).toEqual({ uuid: 'abc-DEF_123', token: 'a.b-c_d' });
    expect(parseTarget('/abc-DEF_123?x=1&token=a%2Eb&token=second')).toEqual({ uuid: 'abc-DEF_123', token: 'a.b' });
    expect(parseTarget('/abc%2DDEF_123?token=a+b')).toEqual({ uuid: 'abc-DEF_123', token: 'a b' });
    expect(parseTarget('/abc-DEF_123#frag?token=x')).toEqual({ uuid: 'abc-DEF_123', token: '' });
  });

  it('a missing token is empty, an undecodable one stays as sent (it then fails verification)', () => {
    expect(parseTarget('/abcdefgh')).toEqual({ uuid: 'abcdefgh', token: '' });
    expect(parseTarget('/abcdefgh?tokens=x')).toEqual({ uuid: 'abcdefgh', token: '' });
    expect(parseTarget('/abcdefgh?token=%zz')).toEqual({ uuid: 'abcdefgh', token: '%zz' });
  });

  it('anything but /{uuid} is null, bad percent-encoding included', () => {
    for (const url of [undefined, '', '/', 'abcdefgh', '//abcdefgh', '/abc/defgh', '/short', '/' + 'a'.repeat(65), '/%', '/%E0%A4%A', '/%zz?token=x', '//%%%', 'http://h/abcdefgh'])
      expect(parseTarget(url)).toBeNull();
  });
});

describe('result push: a uuid reused by another buyer', () => {
  it('the FAIL UUID_CONFLICT reaches the buyer who reused it; the first buyer keeps waiting for their own result', async () => {
    const signer = createTokenSigner('p'.repeat(32), 3600);
    let emit: (r: SeckillResult[]) => void = () => undefined;
    const bus: Pick<OrderBus, 'subscribeResults'> = {
      subscribeResults: async (handler): Promise<Subscription> => {
        emit = handler;
        return { close: async () => undefined };
      },
    };
    const push = await startResultPushServer(
      { signer, clock: { now: () => new Date() }, timers: systemTimers, bus, store: { getResults: async () => [] }, logger: pino({ level: 'silent' }), metrics: createMetrics() },
      { host: '127.0.0.1', port: 0 },
    );
    const open = (userId: number) => {
      const socket = new WebSocket(`ws://127.0.0.1:${push.port}/uuid-shared-1?token=${signer.sign({ userId, role: 'user' }, new Date()).token}`);
      const frames: unknown[] = [];
      socket.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8'))));
      const closed = new Promise<number>((resolve) => socket.on('close', resolve));
      return { frames, closed, opened: new Promise((resolve) => socket.once('open', resolve)) };
    };
    try {
      const [first, second] = [open(1), open(2)];
      await Promise.all([first.opened, second.opened]);
      emit([{ uuid: 'uuid-shared-1', userId: 2, seckillGoodId: 5, status: 'FAIL', reason: 'UUID_CONFLICT' }]);
      expect(await second.closed).toBe(1000);
      expect(second.frames).toEqual([{ uuid: 'uuid-shared-1', status: 'FAIL', reason: 'UUID_CONFLICT', seckillGoodId: 5 }]);
      emit([{ uuid: 'uuid-shared-1', userId: 1, seckillGoodId: 5, status: 'SUCCESS', orderNo: 'N1' }]);
      expect(await first.closed).toBe(1000);
      expect(first.frames).toEqual([{ uuid: 'uuid-shared-1', status: 'SUCCESS', orderNo: 'N1', seckillGoodId: 5 }]);
    } finally {
      await push.close();
    }
  });
});

describe('result push: limits per buyer', () => {
  const signer = createTokenSigner('q'.repeat(32), 3600);
  const quietBus: Pick<OrderBus, 'subscribeResults'> = { subscribeResults: async () => ({ close: async () => undefined }) };
  const closeCode = (port: number, userId: number, uuid: string) =>
    new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/${uuid}?token=${signer.sign({ userId, role: 'user' }, new Date()).token}`);
      socket.on('close', (code) => resolve(code));
      socket.on('open', () => socket.emit('opened'));
    });

  it('a buyer past the socket cap is refused 4429 (others are not); a socket with no result closes 4408 after the wait', async () => {
    const metrics = createMetrics();
    const push = await startResultPushServer(
      { signer, clock: { now: () => new Date() }, timers: systemTimers, bus: quietBus, store: { getResults: async () => [] }, logger: pino({ level: 'silent' }), metrics },
      { host: '127.0.0.1', port: 0, maxSocketsPerUser: 2, waitMs: 1000, recheckMs: 200 },
    );
    try {
      const held = [closeCode(push.port, 1, 'uuid-cap-0001'), closeCode(push.port, 1, 'uuid-cap-0002')];
      // Both held sockets are counted by the server before the third comes.
      await vi.waitUntil(async () => (await metrics.wsSockets.get()).values[0]?.value === 2, { timeout: 10_000, interval: 10 });
      expect(await closeCode(push.port, 1, 'uuid-cap-0003')).toBe(4429);
      const other = closeCode(push.port, 2, 'uuid-cap-0004');
      // The held sockets, and the other buyer's, get no result and close 4408 once the wait is over.
      expect(await Promise.all([...held, other])).toEqual([4408, 4408, 4408]);
    } finally {
      await push.close();
    }
  });
});
