/**
 * Asks the database for the stored results of many uuids at once. A push process does so when a socket
 * connects for a result it has not seen (decided before it subscribed, or more than `keepMs` ago) and when
 * sockets are still waiting (a broadcast missed while reconnecting to the broker). One read per socket
 * would cost a round trip and a pooled connection each: a thousand sockets opening in one second were a
 * thousand queries. Here the uuids asked for during a short window, and while the previous read was in
 * flight, go in one `getResults` read; at most one read is in flight, so a flood of sockets cannot queue
 * up work in the database.
 */
import type { OrderStore } from './ports/order-store.ts';
import type { Timers } from './ports/timers.ts';
import type { SeckillResult } from './model.ts';

export interface StoredResultLookupOptions {
  store: Pick<OrderStore, 'getResults'>;
  timers: Timers;
  /** Still worth asking about when the read goes out (a socket may have closed meanwhile). */
  wanted(uuid: string): boolean;
  found(result: SeckillResult): void;
  failed(err: unknown, uuids: readonly string[]): void;
  /** How long the first uuid waits for others to join it. */
  windowMs?: number;
  /** Uuids per read. */
  maxBatch?: number;
}

export interface StoredResultLookup {
  ask(uuid: string): void;
  /** Uuids waiting for the next read. */
  pending(): number;
  /** Resolves when no read is waiting or in flight (tests, shutdown). */
  idle(): Promise<void>;
  close(): void;
}

export function createStoredResultLookup(opts: StoredResultLookupOptions): StoredResultLookup {
  const windowMs = opts.windowMs ?? 20;
  const maxBatch = opts.maxBatch ?? 500;
  const queue = new Set<string>();
  /** Cancels the read's window; null while no read waits for its window. */
  let timer: (() => void) | null = null;
  let reading: Promise<void> | null = null;
  let closed = false;

  function schedule(): void {
    if (timer || reading || closed || queue.size === 0) return;
    timer = opts.timers.after(
      windowMs,
      () => {
        timer = null;
        reading = readAll().finally(() => {
          reading = null;
          schedule();
        });
      },
      { background: true },
    );
  }

  async function readAll(): Promise<void> {
    while (queue.size > 0 && !closed) {
      const batch: string[] = [];
      for (const uuid of queue) {
        queue.delete(uuid);
        if (opts.wanted(uuid)) batch.push(uuid);
        if (batch.length >= maxBatch) break;
      }
      if (batch.length === 0) continue;
      try {
        for (const result of await opts.store.getResults(batch)) opts.found(result);
      } catch (err) {
        opts.failed(err, batch);
      }
    }
  }

  return {
    ask(uuid) {
      queue.add(uuid);
      schedule();
    },
    pending: () => queue.size,
    async idle() {
      while (timer || reading) await (reading ?? new Promise<void>((r) => opts.timers.after(windowMs, r)));
    },
    close() {
      closed = true;
      timer?.();
      timer = null;
      queue.clear();
    },
  };
}
