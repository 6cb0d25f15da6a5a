/** The in-process bus's work queues: messages waiting, competing consumers with a prefetch, round robin. */
import type { Handler } from '../../core/ports/order-bus.ts';
import type { Backoff } from './retry-policy.ts';

export interface Queued {
  body: string;
  attempt: number;
  redelivered: boolean;
}

export interface Consumer {
  handler: Handler<unknown>;
  backoff: Backoff;
  /** Runs the handler in the process (bus) that owns this consumer. */
  deliver(item: Queued): void;
  prefetch: number;
  inHand: number;
  work: Set<Promise<void>>;
}

/** What a message in a handler's hand needs so that its process dying can return it. */
export interface Unacked {
  item: Queued;
  queue: WorkQueue;
  consumer: Consumer;
  settled: boolean;
}

/** A queue with competing consumers: the pending orders, and the due pay timeouts. */
export interface WorkQueue {
  pending: Queued[];
  consumers: Consumer[];
  nextConsumer: number;
  dead: string[];
  pumpScheduled: boolean;
  /** Messages in any handler's hand, delivered and not yet settled (unsubscribed consumers' included). */
  inHand: number;
  /** The last moment the queue held nothing, waiting or in hand (epoch ms); null before it ever did. */
  emptyAt: number | null;
}

export const workQueue = (now: number): WorkQueue => ({ pending: [], consumers: [], nextConsumer: 0, dead: [], pumpScheduled: false, inHand: 0, emptyAt: now });

/** Note the moment the queue holds nothing at all any more. */
export function noteIfEmpty(queue: WorkQueue, now: number): void {
  if (queue.pending.length === 0 && queue.inHand === 0) queue.emptyAt = now;
}

/**
 * When every message put on the queue before it had been settled: now, if it holds nothing; else the
 * millisecond before it last held nothing (a message put on it within that same millisecond is not before).
 */
export function drainedAt(queue: WorkQueue, now: number): number | null {
  if (queue.pending.length === 0 && queue.inHand === 0) return now;
  return queue.emptyAt === null ? null : queue.emptyAt - 1;
}

/** Hand queued messages to consumers with room, round robin. */
export function pump(queue: WorkQueue): void {
  queue.pumpScheduled = false;
  while (queue.pending.length > 0) {
    const consumer = nextWithRoom(queue);
    if (!consumer) return;
    consumer.deliver(queue.pending.shift()!);
  }
}

function nextWithRoom(queue: WorkQueue): Consumer | undefined {
  const n = queue.consumers.length;
  for (let i = 0; i < n; i++) {
    const index = (queue.nextConsumer + i) % n;
    const consumer = queue.consumers[index]!;
    if (consumer.inHand < consumer.prefetch) {
      queue.nextConsumer = (index + 1) % n;
      return consumer;
    }
  }
  return undefined;
}

export function removeConsumer(queue: WorkQueue, consumer: Consumer): void {
  const index = queue.consumers.indexOf(consumer);
  if (index >= 0) queue.consumers.splice(index, 1);
}

/** Deliver what can be delivered once this turn is done (delivery is never inside the publish call). */
export function schedulePump(queue: WorkQueue): void {
  if (queue.pumpScheduled) return;
  queue.pumpScheduled = true;
  setImmediate(() => pump(queue));
}
