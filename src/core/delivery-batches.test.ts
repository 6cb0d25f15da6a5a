import { describe, expect, it } from 'vitest';
import { createDeliveryBatches } from './delivery-batches.ts';
import { createManualTimers } from './manual-timers.fixture.ts';

/** A decide() whose calls stay open until the test finishes them. */
function heldDecisions() {
  const calls: { items: number[]; deliveries: number; finish: (err?: Error) => void }[] = [];
  const decide = (items: number[], deliveries: number) =>
    new Promise<void>((resolve, reject) => calls.push({ items, deliveries, finish: (err) => (err ? reject(err) : resolve()) }));
  return { calls, decide };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('delivery batches (the worker gathering deliveries into database batches)', () => {
  it('deliveries of one turn wait for the turn, then go in one decision, whole and oldest first', async () => {
    const timers = createManualTimers();
    const { calls, decide } = heldDecisions();
    const handle = createDeliveryBatches({ timers, decide }, { batchSize: 10, concurrency: 2 });
    const acks = [handle([1, 2]), handle([3]), handle([4, 5])];
    expect(calls).toHaveLength(0);
    timers.advance(0);
    expect(calls.map((c) => [c.items, c.deliveries])).toEqual([[[1, 2, 3, 4, 5], 3]]);
    calls[0]!.finish();
    await Promise.all(acks);
  });

  it('a delivery is acked only once the decision covering it succeeded', async () => {
    const timers = createManualTimers();
    const { calls, decide } = heldDecisions();
    const handle = createDeliveryBatches({ timers, decide }, { batchSize: 10, concurrency: 1 });
    let acked = false;
    const ack = handle([1]).then(() => (acked = true));
    timers.advance(0);
    await flush();
    expect(acked).toBe(false);
    calls[0]!.finish();
    await ack;
    expect(acked).toBe(true);
  });

  it('while a decision runs, small deliveries wait and the next decision takes them all', async () => {
    const timers = createManualTimers();
    const { calls, decide } = heldDecisions();
    const handle = createDeliveryBatches({ timers, decide }, { batchSize: 10, concurrency: 4 });
    const first = handle([1]);
    timers.advance(0);
    const later = [handle([2]), handle([3]), handle([4])];
    timers.advance(0);
    // A slot is free, but fewer than batchSize wait: they wait for the running decision.
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await first;
    await flush();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]]);
    calls[1]!.finish();
    await Promise.all(later);
  });

  it('a full batch waiting starts in a free slot without waiting behind a slow decision, up to concurrency', async () => {
    const timers = createManualTimers();
    const { calls, decide } = heldDecisions();
    const handle = createDeliveryBatches({ timers, decide }, { batchSize: 2, concurrency: 2 });
    const acks = [handle([1])];
    timers.advance(0);
    acks.push(handle([2, 3]), handle([4, 5]), handle([6, 7]));
    timers.advance(0);
    // One slow decision runs; a full batch starts beside it; the third waits for a slot.
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3]]);
    calls[1]!.finish();
    await flush();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3], [4, 5]]);
    calls[2]!.finish();
    await flush();
    calls[3]!.finish();
    calls[0]!.finish();
    await Promise.all(acks);
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3], [4, 5], [6, 7]]);
  });

  it('exactly a batch waiting is a full batch: it starts beside the running one; what was taken no longer counts as waiting', async () => {
    const timers = createManualTimers();
    const { calls, decide } = heldDecisions();
    const handle = createDeliveryBatches({ timers, decide }, { batchSize: 3, concurrency: 3 });
    const acks = [handle([1, 2, 3])];
    timers.advance(0);
    // Taken by the running decision: one more item waiting is not a full batch.
    acks.push(handle([4]));
    timers.advance(0);
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3]]);
    // Now exactly three wait: a full batch, started at once.
    acks.push(handle([5, 6]));
    timers.advance(0);
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3], [4, 5, 6]]);
    for (const c of calls) c.finish();
    await Promise.all(acks);
  });

  it('once every decision has finished, a lone delivery starts at once again', async () => {
    const timers = createManualTimers();
    const { calls, decide } = heldDecisions();
    const handle = createDeliveryBatches({ timers, decide }, { batchSize: 10, concurrency: 1 });
    const first = handle([1]);
    timers.advance(0);
    calls[0]!.finish();
    await first;
    await flush();
    const second = handle([2]);
    timers.advance(0);
    expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
    calls[1]!.finish();
    await second;
  });

  it('a delivery larger than the batch size is decided alone, never split', async () => {
    const timers = createManualTimers();
    const { calls, decide } = heldDecisions();
    const handle = createDeliveryBatches({ timers, decide }, { batchSize: 3, concurrency: 1 });
    const acks = [handle([1, 2, 3, 4, 5]), handle([6])];
    timers.advance(0);
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3, 4, 5]]);
    calls[0]!.finish();
    await flush();
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3, 4, 5], [6]]);
    calls[1]!.finish();
    await Promise.all(acks);
  });

  it('a failed decision rejects exactly its own deliveries; later ones are decided afresh', async () => {
    const timers = createManualTimers();
    const { calls, decide } = heldDecisions();
    const handle = createDeliveryBatches({ timers, decide }, { batchSize: 2, concurrency: 1 });
    const a = handle([1]);
    const b = handle([2]);
    timers.advance(0);
    const c = handle([3]);
    timers.advance(0);
    calls[0]!.finish(new Error('database down'));
    await expect(a).rejects.toThrow('database down');
    await expect(b).rejects.toThrow('database down');
    await flush();
    expect(calls.map((x) => x.items)).toEqual([[1, 2], [3]]);
    calls[1]!.finish();
    await expect(c).resolves.toBeUndefined();
  });
});
