/** What the StockCache contract's parts share. */
import type { ReserveOutcome } from '../../core/ports/stock-cache.ts';

export const GOOD = 42;
export const T0 = 1_700_000_000_000;

export function count(outcomes: ReserveOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome.kind] = (counts[outcome.kind] ?? 0) + 1;
  return counts;
}

export const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => from + i);
