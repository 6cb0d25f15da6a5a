import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAY_TIMEOUT_MS, inProcessDatabase, loadGood, newBuyers, newGood, newWorld, reserve, type InProcessDb, type World } from '../../test/support/in-process.ts';
import { createOrders } from './create-orders.ts';
import type { SeckillResult } from './model.ts';
import { lookUpResult, pushDecision, type ResultLookupDeps } from './results.ts';

let data: InProcessDb;
beforeAll(async () => {
  data = await inProcessDatabase();
});
afterAll(() => data.close());

const lookupDeps = (world: World, goodIds: number[]): ResultLookupDeps => ({ store: world.store, cache: world.cache, goodIds: async () => goodIds, noteKeepMs: 3_600_000 });

async function sale(buyers: number) {
  const world = newWorld(data.store);
  const good = await newGood(data.store, world.clock.now(), { stock: 5 });
  await loadGood(world, good);
  const ids = await newBuyers(data.db, buyers);
  return { world, good, ids, deps: lookupDeps(world, [good.id]) };
}

describe('looking up a result (polling, and the socket fallback)', () => {
  it('a request reserved but not decided → QUEUED for its buyer, nothing for another buyer', async () => {
    const { good, ids, deps, world } = await sale(2);
    const [m] = await reserve(world, good.id, [ids[0]!]);
    expect(await lookUpResult(deps, { userId: ids[0]!, uuid: m!.uuid })).toEqual({ uuid: m!.uuid, status: 'QUEUED' });
    expect(await lookUpResult(deps, { userId: ids[1]!, uuid: m!.uuid })).toBeNull();
  });

  it('a decided request → its stored result for its buyer; another buyer gets nothing, as for an unknown uuid', async () => {
    const { good, ids, deps, world } = await sale(2);
    const messages = await reserve(world, good.id, [ids[0]!]);
    await createOrders({ ...world, payTimeoutMs: PAY_TIMEOUT_MS }, messages);
    const uuid = messages[0]!.uuid;
    expect(await lookUpResult(deps, { userId: ids[0]!, uuid })).toMatchObject({ uuid, status: 'SUCCESS', orderNo: expect.any(String) });
    expect(await lookUpResult(deps, { userId: ids[0]!, uuid, seckillGoodId: good.id })).toMatchObject({ status: 'SUCCESS' });
    expect(await lookUpResult(deps, { userId: ids[1]!, uuid })).toBeNull();
    expect(await lookUpResult(deps, { userId: ids[0]!, uuid: 'u-never-sent-1' })).toBeNull();
  });

  it("a uuid reused by another buyer → each buyer sees their own outcome: the first SUCCESS, the reuser's FAIL UUID_CONFLICT", async () => {
    const { good, ids, deps, world } = await sale(2);
    const [first] = await reserve(world, good.id, [ids[0]!]);
    const reused = { ...first!, userId: ids[1]! };
    await createOrders({ ...world, payTimeoutMs: PAY_TIMEOUT_MS }, [first!]);
    await createOrders({ ...world, payTimeoutMs: PAY_TIMEOUT_MS }, [reused]);
    expect(await lookUpResult(deps, { userId: ids[0]!, uuid: first!.uuid })).toMatchObject({ status: 'SUCCESS', userId: ids[0] });
    expect(await lookUpResult(deps, { userId: ids[1]!, uuid: first!.uuid })).toMatchObject({ status: 'FAIL', reason: 'UUID_CONFLICT', userId: ids[1] });
  });

  it('race: decided between the result read and the reservation read → the second result read finds it', async () => {
    const decided: SeckillResult = { uuid: 'u-race-0001', userId: 7, seckillGoodId: 3, status: 'SUCCESS', orderNo: 'O1' };
    let reads = 0;
    const deps: ResultLookupDeps = {
      // The worker stores the result, then clears the reservation: the first read saw neither.
      store: { getResult: async () => (reads++ === 0 ? null : decided), conflictOf: async () => null },
      cache: { reservationOf: async () => null, requestsOf: async () => null },
      goodIds: async () => [3],
      noteKeepMs: 3_600_000,
    };
    expect(await lookUpResult(deps, { userId: 7, uuid: decided.uuid })).toEqual(decided);
    expect(reads).toBe(2);
  });

  it('without a good named and with the notes lost, every good of the catalog is asked for the reservation', async () => {
    const asked: number[] = [];
    const deps: ResultLookupDeps = {
      store: { getResult: async () => null, conflictOf: async () => null },
      cache: { reservationOf: async (goodId) => (asked.push(goodId), goodId === 2 ? { uuid: 'u-queued-01', userId: 5, at: 0 } : null), requestsOf: async () => null },
      goodIds: async () => [1, 2, 3],
      noteKeepMs: 3_600_000,
    };
    expect(await lookUpResult(deps, { userId: 5, uuid: 'u-queued-01' })).toEqual({ uuid: 'u-queued-01', status: 'QUEUED' });
    expect(asked).toEqual([1, 2]);
    expect(await lookUpResult(deps, { userId: 5, uuid: 'u-queued-01', seckillGoodId: 3 })).toBeNull();
  });
});

describe('a pushed result and a waiting socket', () => {
  const result = (over: Partial<SeckillResult>): SeckillResult => ({ uuid: 'u-push-0001', userId: 1, seckillGoodId: 1, status: 'SUCCESS', orderNo: 'O1', ...over });

  it("its buyer's socket gets it; another buyer's socket on that uuid is refused", () => {
    expect(pushDecision(result({}), 1)).toBe('deliver');
    expect(pushDecision(result({}), 2)).toBe('refuse');
  });

  it("a reuser's FAIL UUID_CONFLICT goes to the reuser only; the uuid's own buyer keeps waiting", () => {
    const conflict = result({ userId: 2, status: 'FAIL', reason: 'UUID_CONFLICT', orderNo: undefined });
    expect(pushDecision(conflict, 2)).toBe('deliver');
    expect(pushDecision(conflict, 1)).toBe('ignore');
  });
});
