/** OnceClaims in process memory: the embedded mode's one api process. Expired keys are swept as claims come in. */
import type { OnceClaims } from '../../core/ports/once-claims.ts';

export function createMemoryOnceClaims(now: () => number = Date.now): OnceClaims {
  const held = new Map<string, { holder: string; until: number }>();
  let claimsSinceSweep = 0;
  const sweep = (at: number) => {
    for (const [key, entry] of held) if (entry.until <= at) held.delete(key);
  };
  return {
    async claim(key, holder, expiresAt) {
      const at = now();
      // A sweep per thousand claims keeps the map to the keys still alive at little cost per claim.
      if (++claimsSinceSweep >= 1000) {
        claimsSinceSweep = 0;
        sweep(at);
      }
      const current = held.get(key);
      if (current && current.until > at) return current.holder;
      held.set(key, { holder, until: expiresAt.getTime() });
      return holder;
    },
  };
}
