/**
 * The cache's request notes (StockCache.noteRequests) refilled from the database after the cache lost them
 * (an embedded restart, a flushed or new Redis). Until then the cache answers "not known" and the result
 * poll reads the database as it always did; once the decided requests of the last `keepMs` are noted
 * again, the cache is marked complete and a uuid it has no note of is answered without a database read.
 *
 * A request decided while the refill runs is noted by its worker too (create-orders.ts), so marking the
 * notes complete after reading the database loses none of them.
 */
import type { OrderStore } from './ports/order-store.ts';
import type { StockCache } from './ports/stock-cache.ts';
import type { Clock } from './ports/timers.ts';

export interface RefillNotesDeps {
  store: Pick<OrderStore, 'decidedRequestsSince'>;
  cache: Pick<StockCache, 'noteRequests' | 'requestNotesComplete' | 'markRequestNotesComplete'>;
  clock: Clock;
  keepMs: number;
}

const CHUNK = 1000;

/** Refill the notes if the cache lost them; the number of requests noted, or null when none was needed. */
export async function refillRequestNotes(deps: RefillNotesDeps): Promise<number | null> {
  if (await deps.cache.requestNotesComplete()) return null;
  const notes = await deps.store.decidedRequestsSince(new Date(deps.clock.now().getTime() - deps.keepMs));
  for (let i = 0; i < notes.length; i += CHUNK) await deps.cache.noteRequests(notes.slice(i, i + CHUNK), deps.keepMs);
  await deps.cache.markRequestNotesComplete();
  return notes.length;
}
