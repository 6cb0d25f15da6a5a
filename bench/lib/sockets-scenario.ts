/**
 * sockets: how fast one push process accepts result sockets, against a bare `ws` server (its own process,
 * bench/lib/bare-ws-server.ts) in the same run. One buyer opens `count` sockets, each for its own request
 * id with no result yet (the page opens its socket before it presses the button), `inFlight` handshakes at
 * a time from the load generator; the span runs from the first connect to the last `open`. Every socket
 * must still be held at the end: a push server that refused one (4401, 4403) or closed it fails the check.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { spawnChild, type Child } from './children.ts';
import { cpuBetween, cpuSnapshot, formatCpu, peakRss, type CpuUse } from './cpu.ts';
import type { Check } from './invariants.ts';
import { median, type Row } from './report.ts';
import type { ScenarioContext } from './scenarios.ts';

export interface SocketsOpened {
  count: number;
  seconds: number;
  perSecond: number;
  /** Sockets still open when the last one opened (the rest failed or were closed). */
  held: number;
  cpu: CpuUse;
}

export interface SocketsResult {
  push: SocketsOpened;
  bare: SocketsOpened;
  /** VmHWM of the bare server's process, MiB. */
  barePeakRssMiB?: number;
  checks: Check[];
}

async function openMany(url: (i: number) => string, count: number, inFlight: number, pids: () => Map<number, string>): Promise<SocketsOpened> {
  const sockets: WebSocket[] = [];
  const openOne = (i: number) =>
    new Promise<void>((resolve) => {
      const socket = new WebSocket(url(i), { perMessageDeflate: false });
      sockets.push(socket);
      socket.once('open', () => resolve());
      socket.once('close', () => resolve());
      socket.once('error', () => resolve());
    });
  const cpu0 = cpuSnapshot(pids());
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, async () => {
    while (next < count) await openOne(next++);
  }));
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuBetween(cpu0, cpuSnapshot(pids()));
  // A refusal arrives just after the handshake: give late closes a moment before counting.
  await new Promise((r) => setTimeout(r, 200));
  const held = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
    if (s.readyState === WebSocket.CLOSED) return resolve();
    s.once('close', () => resolve());
    s.terminate();
  })));
  return { count, seconds, perSecond: count / seconds, held, cpu };
}

async function startBare(): Promise<{ url: string; child: Child }> {
  const child = spawnChild({ name: `bare-ws-${randomBytes(3).toString('hex')}`, script: 'bench/lib/bare-ws-server.ts', env: { PORT: '0' }, readyText: 'bare ws ready' });
  let text = await child.ready;
  let m = /bare ws ready (ws:\/\/[0-9.:]+)\n/.exec(text);
  while (!m) {
    await new Promise((r) => child.proc.stdout!.once('data', r));
    text = child.stdout().slice(child.stdout().indexOf('bare ws ready'));
    m = /bare ws ready (ws:\/\/[0-9.:]+)\n/.exec(text);
  }
  return { url: m[1]!, child };
}

export async function sockets(ctx: ScenarioContext, opts: { count: number; inFlight?: number }): Promise<SocketsResult> {
  const inFlight = opts.inFlight ?? 200;
  const buyer = ctx.buyers[0]!;
  const token = encodeURIComponent(buyer.token);
  const bare = await startBare();
  try {
    const barePids = () => new Map([...ctx.stack.processes(), ...(bare.child.proc.pid ? [[bare.child.proc.pid, 'bare ws'] as [number, string]] : [])]);
    // Both servers warm up first (JIT, buffers), unmeasured.
    const warm = Math.min(1000, Math.ceil(opts.count / 10));
    await openMany((i) => `${bare.url}/${ctx.tag}-bwarm-${i}?token=${token}`, warm, inFlight, barePids);
    await openMany((i) => `${ctx.stack.wsUrl}/${ctx.tag}-warm-${i}?token=${token}`, warm, inFlight, ctx.stack.processes);
    const bareRun = await openMany((i) => `${bare.url}/${ctx.tag}-bare-${i}?token=${token}`, opts.count, inFlight, barePids);
    const pushRun = await openMany((i) => `${ctx.stack.wsUrl}/${ctx.tag}-sock-${i}?token=${token}`, opts.count, inFlight, ctx.stack.processes);
    const line = (name: string, r: SocketsOpened) => {
      ctx.log(`  ${name}: ${r.count} sockets in ${r.seconds.toFixed(2)} s = ${Math.round(r.perSecond)} sockets/s, ${r.held} held`);
      ctx.log(`    cpu (cores): ${formatCpu(r.cpu, { count: r.count, unit: 'socket' })}`);
    };
    line('bare ws', bareRun);
    line('push', pushRun);
    const barePeak = bare.child.proc.pid ? peakRss(new Map([[bare.child.proc.pid, 'bare ws']]))['bare ws'] : undefined;
    return {
      push: pushRun,
      bare: bareRun,
      ...(barePeak !== undefined ? { barePeakRssMiB: barePeak } : {}),
      checks: [
        { name: 'every push socket accepted and held', ok: pushRun.held === opts.count, detail: `${pushRun.held} of ${opts.count} held` },
        { name: 'every bare ws socket held', ok: bareRun.held === opts.count, detail: `${bareRun.held} of ${opts.count} held` },
      ],
    };
  } finally {
    await bare.child.stop();
  }
}

/** Table rows of the sockets scenario over the runs: both rates and the median of per-run ratios. */
export function socketsRows(results: readonly SocketsResult[]): Row[] {
  if (!results.length) return [];
  const ratios = results.map((r) => r.push.perSecond / r.bare.perSecond);
  const ratio = median(ratios);
  const push = results.map((r) => r.push.perSecond);
  return [
    {
      scenario: 'sockets', metric: `${results[0]!.push.count} sockets, one push process`, unit: 'sockets/s', value: median(push), runs: push,
      baseline: { name: 'bare ws', value: median(results.map((r) => r.bare.perSecond)), unit: 'sockets/s' },
      ratio, target: '≥ 0.7×', met: ratio >= 0.7,
    },
  ];
}
