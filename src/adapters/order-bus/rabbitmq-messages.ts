/** Message bodies on the sale's RabbitMQ topology: JSON, batches (a lone object from an older publisher is a batch of one). */
import { asBatch } from './batches.ts';

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a decode boundary: our own publishers wrote the body, its type is the queue's
export function parseJson<T>(body: Buffer): T {
  return JSON.parse(body.toString('utf8')) as T;
}

export function parseBatch<T>(body: Buffer): T[] {
  return asBatch<T>(parseJson(body));
}

export function describe(err: unknown): string {
  return (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 500);
}
