/**
 * StockCache: the admission filter in front of the database.
 */

export type ReserveOutcome =
  /** One unit is now held for this buyer under this uuid. */
  | { kind: 'RESERVED'; stockLeft: number }
  /** This uuid already holds a unit for this buyer (a repeat): nothing more was taken. */
  | { kind: 'ALREADY_RESERVED' }
  /** The buyer already holds a unit of this good (another uuid, or a settled order). */
  | { kind: 'DUPLICATE' }
  /** The uuid is held by another buyer. */
  | { kind: 'UUID_TAKEN' }
  | { kind: 'SOLD_OUT' }
  /** The good's stock is not in the cache (never loaded, or the cache was flushed). */
  | { kind: 'NOT_LOADED' };

export interface Reservation {
  uuid: string;
  userId: number;
  /** Epoch ms of the reservation. */
  at: number;
}

/** A request that was accepted (or decided): enough to tell an unknown uuid from one worth a database read. */
export interface RequestNote {
  uuid: string;
  seckillGoodId: number;
  userId: number;
}

/** The state of one good in the cache. */
export interface CachedGood {
  /** Pre-stock: what buyers can still hope for. null when the good is not loaded. */
  preStock: number | null;
  /** Reservations not yet settled (published or in the worker). */
  inFlight: number;
}

export interface StockCache {
  /**
   * Atomically: if this uuid already holds a unit → ALREADY_RESERVED, its reservation's time set to `now`
   * (the repeat publishes it again, so its grace period starts over), or UUID_TAKEN for another buyer;
   * if the good is not loaded → NOT_LOADED; if the buyer already holds a unit → DUPLICATE;
   * if no stock → SOLD_OUT; else take one unit, remember the buyer, record the reservation by uuid.
   */
  reserve(seckillGoodId: number, userId: number, uuid: string, now: number): Promise<ReserveOutcome>;
  /**
   * Give back the units held by these uuids of one good (one atomic step): per uuid holding one, stock + 1,
   * forget its buyer, drop the reservation. Idempotent: a uuid with no reservation (or listed twice)
   * changes nothing. Returns how many units came back.
   */
  release(seckillGoodId: number, uuids: readonly string[]): Promise<number>;
  /**
   * After a `reserve(seckillGoodId, userId, uuid, now)` that failed at the caller (it may have run, or may
   * still run): give back the unit it took, if the reservation is still exactly as that call wrote it. Ordered
   * after that reserve (same connection), so a reserve that runs late is withdrawn too. 1 if a unit came back.
   */
  withdraw(seckillGoodId: number, userId: number, uuid: string, now: number): Promise<number>;
  /**
   * These reservations became orders: drop their reservation records, keep the units taken and the buyers
   * remembered. Idempotent.
   */
  settle(seckillGoodId: number, uuids: readonly string[]): Promise<void>;
  /**
   * Closed orders of one good give their units back (one atomic step): stock + one per listed buyer, and
   * forget those buyers so they may buy again. Not keyed by a reservation: callers make it idempotent
   * (it runs once per set of orders a close changed). A good not loaded stays so; returns units returned.
   */
  restock(seckillGoodId: number, userIds: readonly number[]): Promise<number>;
  /**
   * An admin put `units` more on sale (the database already counts them): pre-stock + units, in the same
   * atomic step as `restock`. A good not loaded stays so (its next load reads the database); returns false then.
   */
  addUnits(seckillGoodId: number, units: number): Promise<boolean>;
  /**
   * Load a good from the database's view. With `onlyIfMissing`, does nothing if the good is loaded
   * (safe while requests are in flight); without it, overwrites stock and buyers and keeps reservations
   * (callers do this only when nothing is in flight). Returns true if it wrote.
   */
  load(
    seckillGoodId: number,
    stock: number,
    buyers: readonly number[],
    opts: {
      onlyIfMissing: boolean;
      /**
       * Compare-and-set for the reconciler: write only if no reservation is in flight and pre-stock still
       * equals this value (null: not loaded). Any reserve, release or restock since the caller read the
       * cache changes pre-stock or leaves a reservation, and the write is refused.
       */
      ifUnchangedFrom?: number | null;
    },
  ): Promise<boolean>;
  /** Pre-stock and in-flight count of one good. */
  read(seckillGoodId: number): Promise<CachedGood>;
  /**
   * Pre-stock of many goods at once (null = not loaded), for display only (the goods list and detail): it may
   * come from a replica a moment behind. Decisions use `reserve` and `read`, which always see the latest write.
   */
  readStocks(seckillGoodIds: readonly number[]): Promise<Map<number, number | null>>;
  /** Reservations of a good not settled or released, oldest first. */
  reservations(seckillGoodId: number): Promise<Reservation[]>;
  /** The reservation one uuid holds on a good, or null (one lookup; used to answer polling). */
  reservationOf(seckillGoodId: number, uuid: string): Promise<Reservation | null>;
  /**
   * Note requests as accepted (uuid, good, buyer), each kept at least `keepMs` from now (a note made again is
   * kept longer; every caller passes the same `keepMs`, and `requestsOf` is asked with it too). The result poll asks `requestsOf` first, so a uuid never accepted costs it one cache call and
   * no database read. Idempotent.
   */
  noteRequests(notes: readonly RequestNote[], keepMs: number): Promise<void>;
  /**
   * The notes of one uuid (one call): [] when it was never noted (or its notes expired), null when the
   * notes are not known to be complete (a cache that lost them and was not refilled since): ask the database.
   */
  requestsOf(uuid: string, keepMs: number): Promise<RequestNote[] | null>;
  /** Whether the notes are known complete; `markRequestNotesComplete` after refilling them from the database. */
  requestNotesComplete(): Promise<boolean>;
  markRequestNotesComplete(): Promise<void>;
  /** Drop everything of one good (an admin deletes a sale; tests). */
  forget(seckillGoodId: number): Promise<void>;
  /** Resolves when the cache answers (health checks, start-up); rejects UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
