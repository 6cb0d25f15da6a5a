/**
 * Where the api's extra cost per sold-out answer goes, measured rather than guessed: each variant of
 * bench/lib/ablation-server.ts (hello → api options → metrics hook → handler steps → full server) in its
 * own process, the same load (autocannon, distinct buyers, a sold-out sale), interleaved over `--runs`,
 * reporting the server process's CPU µs per request (steadier than req/s on a shared machine).
 *
 *   npx tsx bench/ablation.ts [--requests 50000] [--runs 3] [--variants hello,options,hook,handler,full]
 */
import { parseArgs } from 'node:util';
import { createTokenSigner } from '../src/core/credentials.ts';
import { spawnChild } from './lib/children.ts';
import { cpuBetween, cpuPerOp, cpuSnapshot } from './lib/cpu.ts';
import { runLoad, type Buyer } from './lib/load.ts';
import { median } from './lib/report.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '3' },
    variants: { type: 'string', default: 'hello,options,hook,handler,full' },
    connections: { type: 'string', default: '100' },
  },
});
const variants = values.variants.split(',');
const secret = 'ablation-'.padEnd(64, 'x');
const signer = createTokenSigner(secret, 86_400);
const requests = Number(values.requests);
const buyers: Buyer[] = Array.from({ length: requests }, (_, i) => ({ userId: i + 1, token: signer.sign({ userId: i + 1, role: 'user' }, new Date()).token }));

const results = new Map<string, { us: number[]; rps: number[] }>();
for (let run = 1; run <= Number(values.runs); run++) {
  for (const variant of variants) {
    const child = spawnChild({ name: `ablation-${variant}`, script: 'bench/lib/ablation-server.ts', env: { VARIANT: variant, ABLATION_SECRET: secret }, readyText: 'ready http' });
    try {
      await child.ready;
      await new Promise((r) => setTimeout(r, 100));
      const out = child.stdout();
      const url = /ready (http:\/\/[0-9.:]+)/.exec(out)![1]!;
      const goodId = Number(/good (\d+)/.exec(out)![1]);
      const load = (n: number, tag: string) =>
        runLoad({ url, connections: Number(values.connections), amount: n, buyers, seckillGoodId: goodId, uuidOf: (i) => `${tag}-${i}-abcdefgh` });
      await load(Math.min(20_000, requests), `w${run}`); // warm-up (JIT)
      const pids = new Map([[child.proc.pid!, 'server']]);
      const a = cpuSnapshot(pids);
      const l = await load(requests, `r${run}`);
      const use = cpuBetween(a, cpuSnapshot(pids));
      const us = cpuPerOp(use, l.requests).server!;
      const r = results.get(variant) ?? { us: [], rps: [] };
      r.us.push(us);
      r.rps.push(l.rps);
      results.set(variant, r);
      process.stdout.write(`run ${run} ${variant.padEnd(8)} ${Math.round(us)} µs/req of server CPU, ${Math.round(l.rps)} req/s, statuses ${JSON.stringify(l.statuses)}\n`);
    } finally {
      await child.stop();
    }
  }
}
process.stdout.write('\nmedians (server CPU per request; step = added by this layer)\n');
let prev: number | null = null;
for (const v of variants) {
  const us = median(results.get(v)!.us);
  process.stdout.write(`  ${v.padEnd(8)} ${Math.round(us).toString().padStart(4)} µs/req  ${prev === null ? '' : `step ${us - prev >= 0 ? '+' : ''}${Math.round(us - prev)} µs`}   ${Math.round(median(results.get(v)!.rps))} req/s\n`);
  prev = us;
}
