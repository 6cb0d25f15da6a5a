/**
 * MemoryStockCache: the StockCache inside the process, for embedded mode (one process does it all).
 * Same contract as RedisStockCache. Each method does all its work synchronously before its first
 * await, so on one event loop every operation is atomic, as a Lua script is on Redis.
 */
import type { CachedGood, RequestNote, Reservation, ReserveOutcome, StockCache } from '../../core/ports/stock-cache.ts';
import { assertLoadArgs, assertUnits, byAgeThenUuid } from './stock-cache-args.ts';

interface Good {
  stock: number;
  /** Users holding a unit of this good (reserved or ordered). */
  buyers: Set<number>;
  /** Reservations not yet settled, by uuid. */
  reservations: Map<string, { userId: number; at: number }>;
}

const ALREADY_RESERVED: ReserveOutcome = Object.freeze({ kind: 'ALREADY_RESERVED' });
const UUID_TAKEN: ReserveOutcome = Object.freeze({ kind: 'UUID_TAKEN' });
const NOT_LOADED: ReserveOutcome = Object.freeze({ kind: 'NOT_LOADED' });
const DUPLICATE: ReserveOutcome = Object.freeze({ kind: 'DUPLICATE' });
const SOLD_OUT: ReserveOutcome = Object.freeze({ kind: 'SOLD_OUT' });

export function createMemoryStockCache(): StockCache {
  /** A good is loaded exactly when it has an entry here. */
  const goods = new Map<number, Good>();
  /** Request notes: uuid → ("goodId:userId" → its note) and when the uuid's notes expire. */
  const notes = new Map<string, { members: Map<string, RequestNote>; until: number }>();
  let notesComplete = false;
  let notedSinceSweep = 0;

  return {
    async reserve(seckillGoodId, userId, uuid, now) {
      const good = goods.get(seckillGoodId);
      if (!good) return NOT_LOADED;
      // Check order as in reserve.lua: a repeated uuid is recognised first, even when sold out.
      const held = good.reservations.get(uuid);
      if (held) {
        if (held.userId !== userId) return UUID_TAKEN;
        held.at = Math.max(held.at, now);
        return ALREADY_RESERVED;
      }
      if (good.buyers.has(userId)) return DUPLICATE;
      if (good.stock <= 0) return SOLD_OUT;
      good.stock -= 1;
      good.buyers.add(userId);
      good.reservations.set(uuid, { userId, at: now });
      return { kind: 'RESERVED', stockLeft: good.stock };
    },

    async withdraw(seckillGoodId, userId, uuid, now) {
      const good = goods.get(seckillGoodId);
      const held = good?.reservations.get(uuid);
      if (!good || !held || held.userId !== userId || held.at !== now) return 0;
      good.reservations.delete(uuid);
      good.buyers.delete(userId);
      good.stock += 1;
      return 1;
    },

    async release(seckillGoodId, uuids) {
      const good = goods.get(seckillGoodId);
      if (!good) return 0;
      let released = 0;
      for (const uuid of uuids) {
        const held = good.reservations.get(uuid);
        if (!held) continue;
        good.reservations.delete(uuid);
        good.stock += 1;
        good.buyers.delete(held.userId);
        released++;
      }
      return released;
    },

    async settle(seckillGoodId, uuids) {
      const reservations = goods.get(seckillGoodId)?.reservations;
      if (reservations) for (const uuid of uuids) reservations.delete(uuid);
    },

    async restock(seckillGoodId, userIds) {
      // A good that is not loaded stays so: the next load from the database counts the units.
      const good = goods.get(seckillGoodId);
      if (!good) return 0;
      good.stock += userIds.length;
      for (const userId of userIds) good.buyers.delete(userId);
      return userIds.length;
    },

    async addUnits(seckillGoodId, units) {
      assertUnits(units);
      const good = goods.get(seckillGoodId);
      if (!good) return false;
      good.stock += units;
      return true;
    },

    async load(seckillGoodId, stock, buyers, { onlyIfMissing, ifUnchangedFrom }) {
      assertLoadArgs(seckillGoodId, stock, buyers);
      const current = goods.get(seckillGoodId);
      if (current && onlyIfMissing) return false;
      if (ifUnchangedFrom !== undefined && ((current?.stock ?? null) !== ifUnchangedFrom || (current?.reservations.size ?? 0) > 0)) return false;
      const reservations: Good['reservations'] = current?.reservations ?? new Map<string, { userId: number; at: number }>();
      // Buyers of reservations in flight still hold their units.
      const holders = [...reservations.values()].map((held) => held.userId);
      goods.set(seckillGoodId, { stock, buyers: new Set([...buyers, ...holders]), reservations });
      return true;
    },

    async read(seckillGoodId): Promise<CachedGood> {
      const good = goods.get(seckillGoodId);
      return { preStock: good ? good.stock : null, inFlight: good ? good.reservations.size : 0 };
    },

    async readStocks(seckillGoodIds) {
      return new Map(seckillGoodIds.map((id) => [id, goods.get(id)?.stock ?? null]));
    },

    async reservations(seckillGoodId): Promise<Reservation[]> {
      const held = goods.get(seckillGoodId)?.reservations;
      if (!held) return [];
      return [...held].map(([uuid, { userId, at }]) => ({ uuid, userId, at })).sort(byAgeThenUuid);
    },

    async reservationOf(seckillGoodId, uuid) {
      const held = goods.get(seckillGoodId)?.reservations.get(uuid);
      return held ? { uuid, userId: held.userId, at: held.at } : null;
    },

    async noteRequests(requests, keepMs) {
      const until = Date.now() + keepMs;
      for (const r of requests) {
        const entry = notes.get(r.uuid) ?? { members: new Map<string, RequestNote>(), until };
        entry.members.set(`${r.seckillGoodId}:${r.userId}`, { uuid: r.uuid, seckillGoodId: r.seckillGoodId, userId: r.userId });
        entry.until = until;
        notes.set(r.uuid, entry);
      }
      // Expired notes are dropped now and then, as Redis drops expired keys.
      notedSinceSweep += requests.length;
      if (notedSinceSweep >= 10_000) {
        notedSinceSweep = 0;
        const now = Date.now();
        for (const [uuid, entry] of notes) if (entry.until <= now) notes.delete(uuid);
      }
    },

    async requestsOf(uuid, _keepMs) {
      if (!notesComplete) return null;
      const entry = notes.get(uuid);
      if (!entry || entry.until <= Date.now()) return [];
      return [...entry.members.values()];
    },

    async requestNotesComplete() {
      return notesComplete;
    },

    async markRequestNotesComplete() {
      notesComplete = true;
    },

    async forget(seckillGoodId) {
      goods.delete(seckillGoodId);
    },

    async ping() {},

    async close() {},
  };
}
