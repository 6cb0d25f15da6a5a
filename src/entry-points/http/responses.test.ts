import { describe, expect, it } from 'vitest';
import { goodJson, orderJson, resultJson, userJson } from './presenters.ts';
import { pushFrame } from '../ws/result-push-server.ts';
import { OrderJson, PushFrameJson, SeckillGoodJson, SeckillResultJson, UserJson } from './responses.ts';

const at = new Date('2030-01-01T10:00:00.000Z');

describe('the presenters answer exactly the declared response shapes', () => {
  it('an order, paid and closed or not → an Order with no field more or less', () => {
    const order = { orderNo: 'O1', uuid: 'u-1234567', userId: 1, seckillGoodId: 2, goodName: 'g', seckillPrice: 990, status: 'PAID' as const, createdAt: at, payDeadline: at, paidAt: at };
    expect(OrderJson.strict().parse(orderJson(order))).toEqual(orderJson(order));
    expect(OrderJson.strict().parse(orderJson({ ...order, status: 'TIMEOUT', paidAt: undefined, closedAt: at }))).toMatchObject({ closedAt: at.toISOString() });
  });

  it('a good, a user and each kind of result → their declared shapes', () => {
    const good = { id: 1, name: 'n', title: 't', imageUrl: '/i.png', price: 2, seckillPrice: 1, initialStock: 5, stock: 4, startAt: at, endAt: at, paused: false, revision: 1 };
    expect(SeckillGoodJson.strict().parse(goodJson(good))).toEqual(goodJson(good));
    const user = { id: 1, phone: '13900000000', nickname: 'n', role: 'user' as const, tokenVersion: 3 };
    expect(UserJson.strict().parse(userJson(user))).toEqual({ id: 1, phone: '13900000000', nickname: 'n', role: 'user' });
    for (const r of [{ uuid: 'u-1234567', status: 'QUEUED' as const }, { uuid: 'u-1234567', status: 'SUCCESS' as const, orderNo: 'O1' }, { uuid: 'u-1234567', status: 'FAIL' as const, reason: 'SOLD_OUT' as const }]) {
      expect(SeckillResultJson.strict().parse(resultJson(r))).toEqual(r);
    }
  });

  it('a pushed result → the declared frame', () => {
    const frame: unknown = JSON.parse(pushFrame({ uuid: 'u-1234567', userId: 1, seckillGoodId: 2, status: 'FAIL', reason: 'SOLD_OUT' }));
    expect(PushFrameJson.strict().parse(frame)).toEqual({ uuid: 'u-1234567', status: 'FAIL', reason: 'SOLD_OUT', seckillGoodId: 2 });
  });
});
