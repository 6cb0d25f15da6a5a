/**
 * The request notes of the RedisStockCache (see StockCache.noteRequests), in time buckets per shard:
 *   `${keyPrefix}{rq:7}:n:<bucketMs>:<bucket>`  hash uuid -> "seckillGoodId:userId[;…]", kept `keepMs` plus
 *                                               one bucket after its last write; `keepMs` is cut in 24 buckets
 *   `${keyPrefix}{rq:7}:complete`               the shard's mark: its notes were refilled from the database
 *                                               since the cache last lost them (a new or flushed Redis has none)
 * The uuid's shard (16 of them) is its hash tag. A batch of notes is one script per shard it touches (not one
 * per uuid), and a field in a hash costs far less memory than a key; a lookup is one script on one slot that
 * reads the mark and the 25 buckets that may hold a note still kept.
 */
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { SeckillError } from '../../core/errors.ts';
import type { RequestNote, StockCache } from '../../core/ports/stock-cache.ts';

const SHARDS = 16;
const BUCKETS = 24;
const lua = (name: string): string => readFileSync(new URL(`./${name}.lua`, import.meta.url), 'utf8');

interface NoteCommands {
  seckillNote(bucket: string, ttlMs: number, ...pairs: string[]): Promise<number>;
  seckillNotesOf(...keysThenUuid: string[]): Promise<string[] | null>;
}

/** FNV-1a of the uuid, folded onto the shards. */
function shardOf(uuid: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < uuid.length; i++) h = Math.imul(h ^ uuid.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SHARDS;
}

function unavailable(cause: unknown): never {
  throw new SeckillError('UNAVAILABLE', 'The stock cache (Redis) is unavailable.', { cause });
}

type NoteMethods = Pick<StockCache, 'noteRequests' | 'requestsOf' | 'requestNotesComplete' | 'markRequestNotesComplete'>;

export function createRedisRequestNotes(raw: Redis | Cluster, prefix: string): NoteMethods {
  raw.defineCommand('seckillNote', { numberOfKeys: 1, lua: lua('note') });
  // The mark and every bucket that may hold a kept note (a fixed count: a cluster client routes by the keys).
  raw.defineCommand('seckillNotesOf', { numberOfKeys: BUCKETS + 2, lua: lua('notes-of'), readOnly: true });
  const client = raw as (Redis | Cluster) & NoteCommands;
  const completeKey = (shard: number) => `${prefix}{rq:${shard}}:complete`;
  const bucketMsOf = (keepMs: number) => Math.max(1, Math.ceil(keepMs / BUCKETS));
  const bucketKey = (shard: number, bucketMs: number, bucket: number) => `${prefix}{rq:${shard}}:n:${bucketMs}:${bucket}`;

  return {
    async noteRequests(notes, keepMs) {
      if (notes.length === 0) return;
      const bucketMs = bucketMsOf(keepMs);
      const bucket = Math.floor(Date.now() / bucketMs);
      const byShard = new Map<number, string[]>();
      for (const n of notes) {
        const shard = shardOf(n.uuid);
        let pairs = byShard.get(shard);
        if (!pairs) byShard.set(shard, (pairs = []));
        pairs.push(n.uuid, `${n.seckillGoodId}:${n.userId}`);
      }
      await Promise.all([...byShard].map(([shard, pairs]) => client.seckillNote(bucketKey(shard, bucketMs, bucket), keepMs + bucketMs, ...pairs))).catch(unavailable);
    },
    async requestsOf(uuid, keepMs) {
      const shard = shardOf(uuid);
      const bucketMs = bucketMsOf(keepMs);
      const now = Math.floor(Date.now() / bucketMs);
      const keys = [completeKey(shard), ...Array.from({ length: BUCKETS + 1 }, (_, i) => bucketKey(shard, bucketMs, now - i))];
      const found = await client.seckillNotesOf(...keys, uuid).catch(unavailable);
      if (found === null) return null;
      const members = new Set(found.flatMap((s) => s.split(';')));
      return [...members].map((m): RequestNote => {
        const colon = m.indexOf(':');
        return { uuid, seckillGoodId: Number(m.slice(0, colon)), userId: Number(m.slice(colon + 1)) };
      });
    },
    async requestNotesComplete() {
      const marks = await Promise.all(Array.from({ length: SHARDS }, (_, s) => client.exists(completeKey(s)))).catch(unavailable);
      return marks.every((n) => n === 1);
    },
    async markRequestNotesComplete() {
      await Promise.all(Array.from({ length: SHARDS }, (_, s) => client.set(completeKey(s), '1'))).catch(unavailable);
    },
  };
}
