/**
 * Per-answer CPU of the api's front door compared across checkouts in ONE process: each checkout's `full`
 * server (bench/lib/ablation-server.ts) is built side by side and answers injected requests (no sockets, no
 * load generator), in batches alternated between checkouts. Other work on the machine then slows every
 * checkout alike, which separates differences of a few µs that `bench/ablation.ts` (one process per run)
 * cannot on a shared machine. The absolute figures include light-my-request's cost per request.
 *
 *   npx tsx bench/ablation-ab.ts --before <dir>[,<dir>…] [--presses 1] [--batches 30]
 *
 * A checkout is a folder with this layout, e.g. `git archive <commit> | tar -x -C <dir>` with node_modules
 * linked. --presses as in bench/ablation.ts: requests per buyer token within a batch.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { ROOT } from './lib/children.ts';
import { median } from './lib/report.ts';

const { values } = parseArgs({
  options: {
    before: { type: 'string', default: '' },
    presses: { type: 'string', default: '1' },
    batches: { type: 'string', default: '30' },
  },
});
const BATCH = 1000;
const IN_FLIGHT = 100;
const presses = Number(values.presses);
const dirs = [...values.before.split(',').filter(Boolean).map((d) => path.resolve(d)), ROOT];

interface Checkout {
  label: string;
  app: FastifyInstance;
  goodId: number;
  tokenFor(userId: number): string;
  us: number[];
  statuses: Record<number, number>;
}

const checkouts: Checkout[] = [];
for (const dir of dirs) {
  // Another checkout's copy of this module: same exports, typed by ours.
  const server = (await import(path.join(dir, 'bench/lib/ablation-server.ts'))) as typeof import('./lib/ablation-server.ts');
  const app: FastifyInstance = await server.buildVariant('full');
  await app.ready();
  const label = dir === ROOT ? 'this checkout' : path.basename(dir);
  checkouts.push({ label, app, goodId: server.soldOutGoodId, tokenFor: server.tokenFor, us: [], statuses: {} });
}

async function batch(c: Checkout, firstUser: number, buyers: number, record: boolean): Promise<void> {
  const tokens = Array.from({ length: buyers }, (_, i) => c.tokenFor(firstUser + i));
  const before = process.cpuUsage();
  for (let i = 0; i < BATCH; i += IN_FLIGHT) {
    const answers = [];
    for (let j = i; j < i + IN_FLIGHT; j++) {
      const b = j % buyers;
      answers.push(
        c.app.inject({
          method: 'POST',
          url: '/api/seckill/orders',
          headers: { authorization: `Bearer ${tokens[b]}`, 'content-type': 'application/json' },
          payload: `{"seckillGoodId":${c.goodId},"uuid":"r-${firstUser + b}-abcdefgh"}`,
        }),
      );
    }
    for (const r of await Promise.all(answers)) if (record) c.statuses[r.statusCode] = (c.statuses[r.statusCode] ?? 0) + 1;
  }
  const used = process.cpuUsage(before);
  if (record) c.us.push((used.user + used.system) / BATCH);
}

for (let w = 0; w < 5; w++) for (const c of checkouts) await batch(c, 2_000_000 + w * BATCH, BATCH, false); // JIT
const buyers = Math.max(1, Math.round(BATCH / presses));
for (let n = 0; n < Number(values.batches); n++) {
  // Fresh buyers every batch; the order flips each time so no checkout always runs first.
  for (const c of n % 2 ? [...checkouts].reverse() : checkouts) await batch(c, 1 + n * BATCH, buyers, true);
}
process.stdout.write(`median of ${values.batches} batches of ${BATCH}, ${presses} press(es) per buyer, µs of CPU per answer\n`);
for (const c of checkouts) process.stdout.write(`  ${c.label.padEnd(16)} ${median(c.us).toFixed(1).padStart(6)} µs   statuses ${JSON.stringify(c.statuses)}\n`);
for (const c of checkouts) await c.app.close();
