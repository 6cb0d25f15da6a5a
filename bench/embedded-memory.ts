/**
 * Resident memory of the embedded default: one process with every role on a fresh data folder, measured
 * at idle after its first start, then at rest after a sale of `--units` units to twice as many buyers.
 * A measurement, not a test: it prints figures and never fails on them
 * (exit code 1 only when an invariant of the sale fails).
 *
 *   npx tsx bench/embedded-memory.ts [--units 10000] [--settle-ms 5000] [--env K=V …]
 *
 * The process is bench/lib/embedded-app.ts (startApp with every role, as `npm start` runs it, plus an IPC
 * door for seeding buyers), started through tsx's loader like the rest of the bench; `--plain` measures
 * `node dist/app/main.js` itself at idle instead, on its first and second start on one folder (`npm run build`
 * first), with no sale.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/children.ts';
import { printChecks } from './lib/invariants.ts';
import { burst, type ScenarioContext } from './lib/scenarios.ts';
import { adminToken, seedBuyers } from './lib/seed.ts';
import { startStack } from './lib/stack.ts';

const { values: args } = parseArgs({
  options: {
    units: { type: 'string', default: '10000' },
    'settle-ms': { type: 'string', default: '5000' },
    env: { type: 'string', multiple: true, default: [] },
    plain: { type: 'boolean', default: false },
  },
});
const units = Number(args.units);
const settleMs = Number(args['settle-ms']);
const extraEnv = Object.fromEntries(args.env.map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string]));

/** VmRSS and VmHWM (peak) in MiB, and the anonymous part of RSS (heaps, WASM memory). */
function memoryOf(pid: number): { rss: number; peak: number; anon: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: Math.round(kb('VmRSS')), peak: Math.round(kb('VmHWM')), anon: Math.round(kb('RssAnon')) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, settleMs));
const show = (label: string, m: ReturnType<typeof memoryOf>) =>
  console.log(`${label.padEnd(44)} RSS ${String(m.rss).padStart(4)} MiB (anonymous ${m.anon}), peak ${m.peak} MiB`);

async function plainStart(): Promise<void> {
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'seckill-mem-'));
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SECKILL_DATA_DIR: dataDir, PORT: '0', WS_PORT: '0', LOG_LEVEL: 'warn', ...extraEnv };
  try {
    for (const label of ['node dist/app/main.js, first start (idle)', 'node dist/app/main.js, second start (idle)']) {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (/seckill is running[\s\S]*\n\s*\n/.test(out)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`node dist/app/main.js exited (${code}) before it was ready`)));
      });
      await settle();
      show(label, memoryOf(child.pid!));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  } finally {
    await fsp.rm(dataDir, { recursive: true, force: true });
  }
}

async function sale(): Promise<boolean> {
  const stack = await startStack({ mode: 'embedded', workers: 1, apiEnv: { ...extraEnv, SECKILL_RATE_LIMIT_PER_S: '0' } });
  try {
    const pid = [...stack.processes().keys()][0]!;
    await settle();
    show('first start on a fresh folder (idle)', memoryOf(pid));
    const buyers = await seedBuyers(stack.sql, stack.secret, units * 2);
    const ctx: ScenarioContext = { stack, adminToken: await adminToken(stack), buyers, connections: 100, tag: `mem${Date.now()}`, log: console.log };
    const result = await burst(ctx, { units, requests: units * 2 });
    printChecks('sale', result.checks, console.log);
    await settle();
    show(`after a ${units}-unit sale, at rest`, memoryOf(pid));
    return result.checks.every((c) => c.ok);
  } finally {
    await stack.close();
  }
}

if (args.plain) await plainStart();
else process.exitCode = (await sale()) ? 0 : 1;
