/**
 * The current role and token version of users, as the token check needs them: cached per process for `ttlMs`
 * (so a buyer pressing the button costs no database read), and the misses of one moment answered by ONE read
 * for up to 500 ids (a burst of new buyers costs a few reads, not one each). Two reads run at once: the
 * misses that arrive meanwhile wait for the next one, so the busier the database, the larger and fewer the
 * reads (a burst of 100,000 new buyers made one read per 5 of them when every millisecond had its own). A read
 * that stalls holds the others back for STALLED_READ_MS at most: then the next read starts anyway, so a
 * buyer waits for no deadline but their own read's.
 *
 * Staleness: a change made through this process (logout, password change) is seen at once here; one made
 * through another api process is seen here at most `ttlMs` later. When the read fails (database down), an
 * entry past its time is still answered; only an id never read fails.
 */
import type { Clock, Timers } from './ports/timers.ts';
import type { UserStore } from './ports/user-store.ts';
import type { Role } from './model.ts';

export interface TokenVersion {
  role: Role;
  tokenVersion: number;
}

export interface TokenVersions {
  /** The user's current role and version; null when the user does not exist. */
  current(userId: number): Promise<TokenVersion | null>;
  /** A change this process just made: known at once, no read. */
  remember(userId: number, now: TokenVersion | null): void;
}

const BATCH = 500;
const READS_AT_ONCE = 2;
const STALLED_READ_MS = 50;

export function createTokenVersions(
  users: Pick<UserStore, 'tokenVersionsOf'>,
  clock: Clock,
  opts: { ttlMs: number; maxEntries?: number; timers: Timers },
): TokenVersions {
  const max = opts.maxEntries ?? 200_000;
  const cache = new Map<number, { value: TokenVersion | null; at: number }>();
  let waiting = new Map<number, { resolve: (v: TokenVersion | null) => void; reject: (e: unknown) => void }[]>();
  let reading = 0;
  /** The pending read's timer, and whether it is the patience for stalled reads (else the 1 ms gathering). */
  let pending: { cancel: () => void; patience: boolean } | null = null;

  const schedule = () => {
    if (waiting.size === 0) return;
    const atCap = reading >= READS_AT_ONCE;
    if (pending) {
      if (!pending.patience || atCap) return;
      // A read ended while the others waited out the patience: no need to wait any longer.
      pending.cancel();
    }
    // A millisecond gathers the misses of one moment into one read.
    const cancel = opts.timers.after(atCap ? STALLED_READ_MS : 1, () => {
      pending = null;
      void flush();
    });
    pending = { cancel, patience: atCap };
  };

  const store = (userId: number, value: TokenVersion | null) => {
    // Bounded: once full, entries past their time go; if all are fresh, the whole map restarts (a rare burst).
    if (cache.size >= max) {
      const now = clock.now().getTime();
      for (const [id, e] of cache) if (now - e.at >= opts.ttlMs) cache.delete(id);
      if (cache.size >= max) cache.clear();
    }
    cache.set(userId, { value, at: clock.now().getTime() });
  };

  const flush = async () => {
    reading++;
    try {
      await read();
    } finally {
      reading--;
      schedule();
    }
  };

  const read = async () => {
    const batch = waiting;
    waiting = new Map();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += BATCH) {
      const chunk = ids.slice(i, i + BATCH);
      try {
        const rows = await users.tokenVersionsOf(chunk);
        const found = new Map(rows.map((r) => [r.id, { role: r.role, tokenVersion: r.tokenVersion }]));
        for (const id of chunk) {
          const value = found.get(id) ?? null;
          store(id, value);
          for (const w of batch.get(id)!) w.resolve(value);
        }
      } catch (err) {
        for (const id of chunk) {
          const stale = cache.get(id);
          for (const w of batch.get(id)!) {
            if (stale) w.resolve(stale.value);
            else w.reject(err);
          }
        }
      }
    }
  };

  return {
    current(userId) {
      const hit = cache.get(userId);
      if (hit && clock.now().getTime() - hit.at < opts.ttlMs) return Promise.resolve(hit.value);
      return new Promise((resolve, reject) => {
        const list = waiting.get(userId);
        if (list) list.push({ resolve, reject });
        else waiting.set(userId, [{ resolve, reject }]);
        schedule();
      });
    },
    remember: store,
  };
}
