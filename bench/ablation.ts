/**
 * Where the api's extra cost per sold-out answer goes, measured rather than guessed: each variant of
 * bench/lib/ablation-server.ts (hello → api options → metrics hook → handler steps → full server) in its
 * own process, the same load (autocannon, distinct buyers, a sold-out sale), interleaved over `--runs`,
 * reporting the server process's CPU µs per request (steadier than req/s on a shared machine).
 *
 *   npx tsx bench/ablation.ts [--requests 50000] [--runs 3] [--variants hello,options,hook,handler,full]
 *                             [--presses 1] [--before <dir>[,<dir>…]]
 *
 * --presses N: each buyer sends N of the measured requests with one token (1: every token is new to the
 *   server, as in the bench's burst; 2: half are repeat presses; ≥ 100: most answers are RATE_LIMITED).
 *   The warm-up uses other buyers, so a token the server remembers is never counted as new.
 * --before <dir>,…: also run each variant from other checkouts (e.g. `git archive <commit> | tar -x -C <dir>`
 *   with node_modules linked), labelled by folder name and interleaved with this one, for a before/after in
 *   one invocation.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createTokenSigner } from '../src/core/credentials.ts';
import { ROOT, spawnChild } from './lib/children.ts';
import { cpuBetween, cpuPerOp, cpuSnapshot } from './lib/cpu.ts';
import { runLoad, type Buyer } from './lib/load.ts';
import { median } from './lib/report.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '3' },
    variants: { type: 'string', default: 'hello,options,hook,handler,full' },
    connections: { type: 'string', default: '100' },
    presses: { type: 'string', default: '1' },
    before: { type: 'string' },
  },
});
const variants = values.variants.split(',');
const SERVER = 'bench/lib/ablation-server.ts';
const checkouts = [{ label: '', script: SERVER }];
for (const dir of values.before?.split(',').reverse() ?? []) {
  checkouts.unshift({ label: `@${path.basename(dir)}`, script: path.relative(ROOT, path.join(path.resolve(dir), SERVER)) });
}
const secret = 'ablation-'.padEnd(64, 'x');
const signer = createTokenSigner(secret, 86_400);
const requests = Number(values.requests);
const warmups = Math.min(20_000, requests);
const buyerCount = Math.max(1, Math.round(requests / Number(values.presses)));
const buyersFrom = (first: number, n: number): Buyer[] =>
  Array.from({ length: n }, (_, i) => ({ userId: first + i, token: signer.sign({ userId: first + i, role: 'user' }, new Date()).token }));
const warmupBuyers = buyersFrom(1_000_001, warmups);
const buyers = buyersFrom(1, buyerCount);

const results = new Map<string, { us: number[]; rps: number[] }>();
for (let run = 1; run <= Number(values.runs); run++) {
  for (const variant of variants) for (const checkout of checkouts) {
    const label = variant + checkout.label;
    const child = spawnChild({ name: `ablation-${variant}`, script: checkout.script, env: { VARIANT: variant, ABLATION_SECRET: secret, ABLATION_USERS: String(Math.max(buyerCount, warmups)) }, readyText: 'ready http' });
    try {
      await child.ready;
      await new Promise((r) => setTimeout(r, 100));
      const out = child.stdout();
      const url = /ready (http:\/\/[0-9.:]+)/.exec(out)![1]!;
      const goodId = Number(/good (\d+)/.exec(out)![1]);
      const load = (n: number, who: Buyer[], tag: string) =>
        runLoad({ url, connections: Number(values.connections), amount: n, buyers: who, seckillGoodId: goodId, uuidOf: (i) => `${tag}-${i}-abcdefgh` });
      await load(warmups, warmupBuyers, `w${run}`); // warm-up (JIT)
      const pids = new Map([[child.proc.pid!, 'server']]);
      const a = cpuSnapshot(pids);
      const l = await load(requests, buyers, `r${run}`);
      const use = cpuBetween(a, cpuSnapshot(pids));
      const us = cpuPerOp(use, l.requests).server!;
      const r = results.get(label) ?? { us: [], rps: [] };
      r.us.push(us);
      r.rps.push(l.rps);
      results.set(label, r);
      process.stdout.write(`run ${run} ${label.padEnd(15)} ${Math.round(us)} µs/req of server CPU, ${Math.round(l.rps)} req/s, statuses ${JSON.stringify(l.statuses)}\n`);
    } finally {
      await child.stop();
    }
  }
}
process.stdout.write(`\nmedians of ${values.runs} runs, ${values.presses} press(es) per buyer (server CPU per request; step = added by this layer)\n`);
for (const checkout of checkouts) {
  let prev: number | null = null;
  for (const v of variants.map((v) => v + checkout.label)) {
    const us = median(results.get(v)!.us);
    process.stdout.write(`  ${v.padEnd(15)} ${Math.round(us).toString().padStart(4)} µs/req  ${prev === null ? '' : `step ${us - prev >= 0 ? '+' : ''}${Math.round(us - prev)} µs`}   ${Math.round(median(results.get(v)!.rps))} req/s\n`);
    prev = us;
  }
}
