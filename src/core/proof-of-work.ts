/**
 * Proof-of-work before register and/or buying (SECKILL_POW): the client asks for a signed puzzle, spends CPU
 * to solve it, and sends the solution with the request. One request of a person costs a fraction of a second;
 * a script sending thousands pays thousands of times. The rules kept here:
 *
 * - a solution is accepted once: its puzzle's signature is taken on a shared counter (every api process sees
 *   it) for as long as the puzzle lives, and a second use is refused (a replayed solution is free work);
 * - a missing, wrong, expired or replayed solution is refused the same way (FORBIDDEN): the client asks for a
 *   new puzzle;
 * - when the shared counter cannot be reached, the request is refused with UNAVAILABLE (an attacker who can
 *   slow the store must not get replays through).
 */
import { SeckillError } from './errors.ts';
import type { Limiter } from './ports/limiter.ts';
import type { PowPuzzles } from './ports/pow.ts';

export type PowScope = 'register' | 'buy';

export interface PowGate {
  required(scope: PowScope): boolean;
  challenge(): Promise<unknown>;
  /** Resolves when the solution is good and not used before; FORBIDDEN otherwise. */
  check(scope: PowScope, solution: string | undefined): Promise<void>;
}

export function createPowGate(puzzles: PowPuzzles, usedOnce: Limiter, scopes: ReadonlySet<PowScope>): PowGate {
  const refuse = () =>
    new SeckillError('FORBIDDEN', 'Solve a fresh proof-of-work puzzle first (GET /api/pow/challenge); this one is missing, wrong, expired or used.');
  return {
    required: (scope) => scopes.has(scope),
    challenge: () => puzzles.make(),
    async check(scope, solution) {
      if (!scopes.has(scope)) return;
      if (!solution || solution.length > 2048) throw refuse();
      const signature = await puzzles.solved(solution);
      if (!signature) throw refuse();
      let first: boolean;
      try {
        first = (await usedOnce.take(signature)).wait === 0;
      } catch (err) {
        throw new SeckillError('UNAVAILABLE', 'The puzzle cannot be checked for a moment; try again shortly.', { cause: err });
      }
      if (!first) throw refuse();
    },
  };
}
