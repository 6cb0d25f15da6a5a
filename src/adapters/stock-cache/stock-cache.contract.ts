/**
 * The StockCache contract: every behaviour the sale relies on, races included.
 * Run against each adapter by a file of a couple of lines (memory-stock-cache.test.ts,
 * redis-stock-cache.int.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StockCache } from '../../core/ports/stock-cache.ts';
import { describeStockCacheLoadsAndReads } from './stock-cache-loads.contract.ts';
import { describeRequestNotes } from './stock-cache-notes.contract.ts';
import { GOOD, T0, count, range } from './stock-cache.fixture.ts';

export type MakeFreshStockCache = () => Promise<{ cache: StockCache; cleanup: () => Promise<void> }>;

export function describeStockCache(label: string, makeFresh: MakeFreshStockCache): void {
  describe(`StockCache contract: ${label}`, () => {
    let cache: StockCache;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ cache, cleanup } = await makeFresh());
    });
    afterEach(async () => {
      await cleanup();
    });

    const load = (stock: number, buyers: number[] = [], good = GOOD) =>
      cache.load(good, stock, buyers, { onlyIfMissing: false });

    describe('reserve', () => {
      it('a good never loaded → NOT_LOADED, nothing recorded', async () => {
        expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'NOT_LOADED' });
        expect(await cache.read(GOOD)).toEqual({ preStock: null, inFlight: 0 });
        expect(await cache.reservations(GOOD)).toEqual([]);
      });

      it('a loaded good → RESERVED with the stock left, the unit held in flight', async () => {
        await load(10);
        expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'RESERVED', stockLeft: 9 });
        expect(await cache.reserve(GOOD, 2, 'uuid-2', T0)).toEqual({ kind: 'RESERVED', stockLeft: 8 });
        expect(await cache.read(GOOD)).toEqual({ preStock: 8, inFlight: 2 });
        expect(await cache.reservations(GOOD)).toEqual([
          { uuid: 'uuid-1', userId: 1, at: T0 },
          { uuid: 'uuid-2', userId: 2, at: T0 },
        ]);
      });

      it('stock 0 → SOLD_OUT, nothing taken', async () => {
        await load(0);
        expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'SOLD_OUT' });
        expect(await cache.read(GOOD)).toEqual({ preStock: 0, inFlight: 0 });
      });

      it('a buyer loaded as holding an order → DUPLICATE, even when sold out', async () => {
        await load(1, [7]);
        expect(await cache.reserve(GOOD, 7, 'uuid-7', T0)).toEqual({ kind: 'DUPLICATE' });
        await load(0, [7]);
        expect(await cache.reserve(GOOD, 7, 'uuid-7', T0)).toEqual({ kind: 'DUPLICATE' });
      });

      it('stock 50 and 500 distinct buyers at once → exactly 50 RESERVED, the rest SOLD_OUT, never negative', async () => {
        await load(50);
        const outcomes = await Promise.all(range(500).map((user) => cache.reserve(GOOD, user, `uuid-${user}`, T0)));
        expect(count(outcomes)).toEqual({ RESERVED: 50, SOLD_OUT: 450 });
        const left = outcomes.flatMap((o) => (o.kind === 'RESERVED' ? [o.stockLeft] : []));
        expect(new Set(left)).toEqual(new Set(range(50, 0)));
        expect(await cache.read(GOOD)).toEqual({ preStock: 0, inFlight: 50 });
        expect(await cache.reservations(GOOD)).toHaveLength(50);
      });

      it('one buyer with many uuids at once → exactly one RESERVED, the rest DUPLICATE', async () => {
        await load(10);
        const outcomes = await Promise.all(range(100).map((i) => cache.reserve(GOOD, 5, `uuid-${i}`, T0)));
        expect(count(outcomes)).toEqual({ RESERVED: 1, DUPLICATE: 99 });
        expect(await cache.read(GOOD)).toEqual({ preStock: 9, inFlight: 1 });
      });

      it('the same uuid sent many times at once → one unit taken, the repeats ALREADY_RESERVED', async () => {
        await load(10);
        const outcomes = await Promise.all(range(100).map(() => cache.reserve(GOOD, 5, 'uuid-same', T0)));
        expect(count(outcomes)).toEqual({ RESERVED: 1, ALREADY_RESERVED: 99 });
        expect(await cache.read(GOOD)).toEqual({ preStock: 9, inFlight: 1 });
        expect(await cache.reservations(GOOD)).toEqual([{ uuid: 'uuid-same', userId: 5, at: T0 }]);
      });

      it('a repeated uuid once sold out → still ALREADY_RESERVED, not SOLD_OUT', async () => {
        await load(1);
        await cache.reserve(GOOD, 5, 'uuid-5', T0);
        expect(await cache.reserve(GOOD, 5, 'uuid-5', T0 + 1)).toEqual({ kind: 'ALREADY_RESERVED' });
      });

      it('a repeat moves its reservation to the time of the repeat (it is published again), never back', async () => {
        await load(10);
        await cache.reserve(GOOD, 5, 'uuid-5', T0);
        expect(await cache.reserve(GOOD, 5, 'uuid-5', T0 + 5000)).toEqual({ kind: 'ALREADY_RESERVED' });
        expect(await cache.reservationOf(GOOD, 'uuid-5')).toEqual({ uuid: 'uuid-5', userId: 5, at: T0 + 5000 });
        expect(await cache.reserve(GOOD, 5, 'uuid-5', T0 + 1000)).toEqual({ kind: 'ALREADY_RESERVED' });
        expect(await cache.reservations(GOOD)).toEqual([{ uuid: 'uuid-5', userId: 5, at: T0 + 5000 }]);
        expect(await cache.read(GOOD)).toEqual({ preStock: 9, inFlight: 1 });
      });

      it('a uuid held by another buyer → UUID_TAKEN, nothing taken', async () => {
        await load(10);
        await cache.reserve(GOOD, 1, 'uuid-x', T0);
        expect(await cache.reserve(GOOD, 2, 'uuid-x', T0)).toEqual({ kind: 'UUID_TAKEN' });
        expect(await cache.read(GOOD)).toEqual({ preStock: 9, inFlight: 1 });
        expect(await cache.reserve(GOOD, 2, 'uuid-y', T0)).toEqual({ kind: 'RESERVED', stockLeft: 8 });
      });

      it('goods are independent: a reservation of one leaves the others as they were', async () => {
        await load(5, [], 1);
        await load(5, [], 2);
        await cache.reserve(1, 9, 'uuid-a', T0);
        expect(await cache.reserve(2, 9, 'uuid-b', T0)).toEqual({ kind: 'RESERVED', stockLeft: 4 });
        expect(await cache.read(1)).toEqual({ preStock: 4, inFlight: 1 });
      });
    });

    it('a working cache answers ping', async () => {
      await expect(cache.ping()).resolves.toBeUndefined();
    });

    describe('release', () => {
      it('a reserve withdrawn as its call wrote it → the unit returns and the buyer may reserve again; twice → 0', async () => {
        await load(1);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        expect(await cache.withdraw(GOOD, 1, 'uuid-1', T0)).toBe(1);
        expect(await cache.read(GOOD)).toEqual({ preStock: 1, inFlight: 0 });
        expect(await cache.withdraw(GOOD, 1, 'uuid-1', T0)).toBe(0);
        expect(await cache.read(GOOD)).toEqual({ preStock: 1, inFlight: 0 });
        expect(await cache.reserve(GOOD, 1, 'uuid-1b', T0)).toEqual({ kind: 'RESERVED', stockLeft: 0 });
      });

      it('a withdraw of a reservation another call made or moved (a repeat), or of another buyer, or never made → 0, nothing changes', async () => {
        await load(5);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        await cache.reserve(GOOD, 1, 'uuid-1', T0 + 500); // the repeat moved it
        await cache.reserve(GOOD, 2, 'uuid-2', T0);
        expect(await cache.withdraw(GOOD, 1, 'uuid-1', T0)).toBe(0);
        expect(await cache.withdraw(GOOD, 3, 'uuid-2', T0)).toBe(0);
        expect(await cache.withdraw(GOOD, 4, 'uuid-4', T0)).toBe(0);
        expect(await cache.read(GOOD)).toEqual({ preStock: 3, inFlight: 2 });
      });

      it('a reservation released → the unit returns and the buyer may reserve again', async () => {
        await load(1);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        expect(await cache.release(GOOD, ['uuid-1'])).toBe(1);
        expect(await cache.read(GOOD)).toEqual({ preStock: 1, inFlight: 0 });
        expect(await cache.reservations(GOOD)).toEqual([]);
        expect(await cache.reserve(GOOD, 1, 'uuid-1b', T0)).toEqual({ kind: 'RESERVED', stockLeft: 0 });
      });

      it('released twice → the second is a no-op answering 0', async () => {
        await load(5);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        await cache.reserve(GOOD, 2, 'uuid-2', T0);
        expect(await cache.release(GOOD, ['uuid-1'])).toBe(1);
        expect(await cache.release(GOOD, ['uuid-1'])).toBe(0);
        expect(await cache.read(GOOD)).toEqual({ preStock: 4, inFlight: 1 });
      });

      it('an unknown uuid, or a good not loaded → 0, nothing changes', async () => {
        expect(await cache.release(GOOD, ['uuid-none'])).toBe(0);
        await load(5, [3]);
        expect(await cache.release(GOOD, ['uuid-none'])).toBe(0);
        expect(await cache.read(GOOD)).toEqual({ preStock: 5, inFlight: 0 });
        expect(await cache.reserve(GOOD, 3, 'uuid-3', T0)).toEqual({ kind: 'DUPLICATE' });
      });

      it('the same reservation released many times at once → the unit returns once', async () => {
        await load(5);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        const released = await Promise.all(range(50).map(() => cache.release(GOOD, ['uuid-1'])));
        expect(released.filter(Boolean)).toHaveLength(1);
        expect(await cache.read(GOOD)).toEqual({ preStock: 5, inFlight: 0 });
      });

      it('a batch of held, unknown and repeated uuids → each held unit returns once, in one step', async () => {
        await load(10);
        for (const i of range(6, 0)) await cache.reserve(GOOD, i + 1, `uuid-${i}`, T0);
        expect(await cache.release(GOOD, ['uuid-0', 'uuid-1', 'uuid-none', 'uuid-1', 'uuid-2'])).toBe(3);
        expect(await cache.read(GOOD)).toEqual({ preStock: 7, inFlight: 3 });
        expect((await cache.reservations(GOOD)).map((r) => r.uuid)).toEqual(['uuid-3', 'uuid-4', 'uuid-5']);
        // The released buyers may buy again; the others still hold their units.
        expect(await cache.reserve(GOOD, 2, 'uuid-1b', T0)).toMatchObject({ kind: 'RESERVED' });
        expect(await cache.reserve(GOOD, 4, 'uuid-3b', T0)).toEqual({ kind: 'DUPLICATE' });
        expect(await cache.release(GOOD, [])).toBe(0);
      });

      it('overlapping batches released at once → every unit returns exactly once', async () => {
        await load(300);
        const uuids = range(300, 0).map((i) => `uuid-${i}`);
        await Promise.all(uuids.map((uuid, i) => cache.reserve(GOOD, i + 1, uuid, T0)));
        const released = await Promise.all(range(10, 0).map((k) => cache.release(GOOD, uuids.slice(k * 20, k * 20 + 100))));
        expect(released.reduce((a, b) => a + b, 0)).toBe(280);
        expect(await cache.read(GOOD)).toEqual({ preStock: 280, inFlight: 20 });
      });
    });

    describe('settle and restock', () => {
      it('a settled reservation → unit stays taken, buyer stays known, no longer in flight', async () => {
        await load(5);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        await cache.settle(GOOD, ['uuid-1']);
        expect(await cache.read(GOOD)).toEqual({ preStock: 4, inFlight: 0 });
        expect(await cache.reservations(GOOD)).toEqual([]);
        expect(await cache.reserve(GOOD, 1, 'uuid-1b', T0)).toEqual({ kind: 'DUPLICATE' });
        // The settled uuid itself is no longer a reservation: its buyer holds an order now.
        expect(await cache.reserve(GOOD, 1, 'uuid-1', T0)).toEqual({ kind: 'DUPLICATE' });
      });

      it('settled twice, or unknown, or release after settle → no change', async () => {
        await load(5);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        await cache.settle(GOOD, ['uuid-1']);
        await cache.settle(GOOD, ['uuid-1']);
        await cache.settle(GOOD, ['uuid-none']);
        await cache.settle(7, ['uuid-none']);
        expect(await cache.release(GOOD, ['uuid-1'])).toBe(0);
        expect(await cache.read(GOOD)).toEqual({ preStock: 4, inFlight: 0 });
      });

      it('a closed order restocked after settle → the unit returns and the buyer may reserve again', async () => {
        await load(1);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        await cache.settle(GOOD, ['uuid-1']);
        expect(await cache.reserve(GOOD, 2, 'uuid-2', T0)).toEqual({ kind: 'SOLD_OUT' });
        await cache.restock(GOOD, [1]);
        expect(await cache.read(GOOD)).toEqual({ preStock: 1, inFlight: 0 });
        expect(await cache.reserve(GOOD, 1, 'uuid-1c', T0)).toEqual({ kind: 'RESERVED', stockLeft: 0 });
      });

      it('a batch settled, then its closed orders restocked in one call → every unit and buyer returns', async () => {
        await load(4);
        for (const i of range(4, 0)) await cache.reserve(GOOD, i + 1, `uuid-${i}`, T0);
        await cache.settle(GOOD, ['uuid-0', 'uuid-1', 'uuid-2', 'uuid-3', 'uuid-none']);
        expect(await cache.read(GOOD)).toEqual({ preStock: 0, inFlight: 0 });
        expect(await cache.restock(GOOD, [1, 3])).toBe(2);
        expect(await cache.read(GOOD)).toEqual({ preStock: 2, inFlight: 0 });
        expect(await cache.reserve(GOOD, 3, 'uuid-3b', T0)).toMatchObject({ kind: 'RESERVED' });
        expect(await cache.reserve(GOOD, 2, 'uuid-2b', T0)).toEqual({ kind: 'DUPLICATE' });
        expect(await cache.restock(GOOD, [])).toBe(0);
      });

      it('restock of a good not loaded → it stays not loaded (no half-loaded good)', async () => {
        await cache.restock(GOOD, [1]);
        expect(await cache.read(GOOD)).toEqual({ preStock: null, inFlight: 0 });
        expect(await cache.load(GOOD, 3, [], { onlyIfMissing: true })).toBe(true);
        expect(await cache.read(GOOD)).toEqual({ preStock: 3, inFlight: 0 });
      });
    });

    describe('units added by an admin', () => {
      it('a sold-out good gains units → exactly that many more reservations, remembered buyers still refused', async () => {
        await load(1);
        await cache.reserve(GOOD, 1, 'uuid-1', T0);
        expect(await cache.addUnits(GOOD, 2)).toBe(true);
        expect(await cache.read(GOOD)).toEqual({ preStock: 2, inFlight: 1 });
        expect(await cache.reserve(GOOD, 1, 'uuid-1b', T0)).toEqual({ kind: 'DUPLICATE' });
        expect(await cache.reserve(GOOD, 2, 'uuid-2', T0)).toEqual({ kind: 'RESERVED', stockLeft: 1 });
        expect(await cache.reserve(GOOD, 3, 'uuid-3', T0)).toEqual({ kind: 'RESERVED', stockLeft: 0 });
        expect(await cache.reserve(GOOD, 4, 'uuid-4', T0)).toEqual({ kind: 'SOLD_OUT' });
      });

      it('units added while 300 buyers reserve at once → exactly the old stock plus the new units are taken', async () => {
        await load(40);
        const presses = range(300, 1).map((i) => cache.reserve(GOOD, i, `uuid-${i}`, T0));
        const added = cache.addUnits(GOOD, 25);
        const outcomes = await Promise.all(presses);
        expect(await added).toBe(true);
        // The 65 units are all taken whether the addition landed before, among or after the presses.
        const after = await Promise.all(range(100, 301).map((i) => cache.reserve(GOOD, i, `uuid-${i}`, T0)));
        expect(count([...outcomes, ...after]).RESERVED).toBe(65);
        expect(await cache.read(GOOD)).toEqual({ preStock: 0, inFlight: 65 });
      });

      it('a good not loaded stays so (its next load reads the database, which counts the units); no unit below 1', async () => {
        expect(await cache.addUnits(GOOD, 5)).toBe(false);
        expect(await cache.read(GOOD)).toEqual({ preStock: null, inFlight: 0 });
        await load(1);
        await expect(cache.addUnits(GOOD, 0)).rejects.toThrow(RangeError);
        expect(await cache.read(GOOD)).toEqual({ preStock: 1, inFlight: 0 });
      });
    });

    describeStockCacheLoadsAndReads({ cache: () => cache });
    describeRequestNotes({ cache: () => cache });
  });
}
