/**
 * The local sold-out sign: a per-process hint that lets the api answer SOLD_OUT with no I/O.
 *
 * Two races are closed here:
 * - a "stock again" broadcast can arrive while a reserve that saw SOLD_OUT is still on the wire;
 *   setting the sign afterwards would hide the returned unit. Each clear bumps a generation, and a
 *   sign is only set if no clear happened since the reserve began.
 * - a broadcast can be lost (a broker restart). A sign expires after `ttlMs`, so at worst one
 *   request per good per ttl goes to the cache to look again.
 */
import type { Clock } from './ports/timers.ts';

export interface SoldOutSigns {
  isSet(seckillGoodId: number): boolean;
  /** Take before asking the cache; pass to `set`. */
  generation(seckillGoodId: number): number;
  set(seckillGoodId: number, generation: number): void;
  clear(seckillGoodId: number): void;
}

export function createSoldOutSigns(clock: Clock, ttlMs = 1000): SoldOutSigns {
  const expiresAt = new Map<number, number>();
  const generations = new Map<number, number>();
  return {
    isSet(id) {
      const until = expiresAt.get(id);
      if (until === undefined) return false;
      if (until > clock.now().getTime()) return true;
      expiresAt.delete(id);
      return false;
    },
    generation: (id) => generations.get(id) ?? 0,
    set(id, generation) {
      if ((generations.get(id) ?? 0) !== generation) return;
      expiresAt.set(id, clock.now().getTime() + ttlMs);
    },
    clear(id) {
      generations.set(id, (generations.get(id) ?? 0) + 1);
      expiresAt.delete(id);
    },
  };
}
