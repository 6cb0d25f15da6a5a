/** Batch helpers shared by the order bus adapters. */
import type { ResultStatus, SeckillResult } from '../../core/model.ts';

/** Results split by status, in their order: each group travels as one message (Order.success / Order.fail). */
export function groupResults(results: readonly SeckillResult[]): Map<ResultStatus, SeckillResult[]> {
  const groups = new Map<ResultStatus, SeckillResult[]>();
  for (const r of results) {
    let group = groups.get(r.status);
    if (!group) groups.set(r.status, (group = []));
    group.push(r);
  }
  return groups;
}

/**
 * A message body as a batch. A lone object (or number) is what a process of the previous release
 * published, one per message: it is read as a batch of one, so queues left over from it drain normally.
 */
export function asBatch<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [value as T];
}
