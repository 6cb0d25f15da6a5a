/**
 * The accept path's baseline, in its own process like the api: confirmed publishes of messages the size
 * of an OrderMessage, persistent and mandatory to a durable queue, `concurrency` awaiting their confirm at
 * once — what publishOrder does, with nothing else around it. Prints one JSON line with the rate.
 *
 *   node --import tsx bench/lib/raw-publish.ts <amqpUrl> <queue> <count> <concurrency> <bytes>
 */
import { connect } from 'amqplib';

const [url, queue, countArg, concurrencyArg, bytesArg] = process.argv.slice(2);
if (!url || !queue) throw new Error('usage: raw-publish.ts <amqpUrl> <queue> <count> <concurrency> <bytes>');
const count = Number(countArg);
const concurrency = Number(concurrencyArg);
const bytes = Number(bytesArg);

const conn = await connect(url);
const admin = await conn.createChannel();
await admin.assertQueue(queue, { durable: true });
const ch = await conn.createConfirmChannel();

// A message shaped like {"uuid":…,"userId":…,"seckillGoodId":…,"reservedAt":…}, padded to the same size.
function message(i: number): Buffer {
  const base = JSON.stringify({ uuid: `raw-${i}`, userId: 100000 + i, seckillGoodId: 1, reservedAt: Date.now(), p: '' });
  const pad = Math.max(0, bytes - base.length);
  return Buffer.from(base.replace('"p":""', `"p":"${'x'.repeat(pad)}"`));
}

let drained: Promise<void> | null = null;
let next = 0;
let seq = 0;
const publishOne = (i: number) =>
  new Promise<void>((resolve, reject) => {
    const ok = ch.publish('', queue, message(i), { persistent: true, mandatory: true, contentType: 'application/json', messageId: `m${++seq}` }, (err) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
    );
    if (!ok && !drained) drained = new Promise((r) => ch.once('drain', () => ((drained = null), r())));
  });

const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      if (drained) await drained;
      await publishOne(i);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
await admin.deleteQueue(queue);
await conn.close();
process.stdout.write(`${JSON.stringify({ published: count, seconds, rate: count / seconds })}\n`);
