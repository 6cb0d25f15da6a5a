/**
 * Where the time goes, from a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --profile api`):
 * the top functions by self time, and self time grouped by where the code lives (our src, each package,
 * node internals, GC, idle).
 *
 *   npx tsx bench/profile-summary.ts bench/results/profiles/<run>/<child>/CPU.*.0.001.cpuprofile \
 *     [--top 30] [--since placeOrder] [--callers writev]
 *
 * `--since F` skips everything before the first sample inside F (start-up, module compilation);
 * `--callers F` shows who calls F (useful for native frames like writev).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Summary {
  totalMs: number;
  busyMs: number;
  top: { name: string; where: string; ms: number; pct: number }[];
  groups: { group: string; ms: number; pct: number }[];
}

/** Where a function lives: "src/…", a package name, "node:…", or V8's pseudo-frames. */
export function groupOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return 'node internals';
  const src = url.indexOf('/src/');
  if (src >= 0) return `src/${url.slice(src + 5).split('/').slice(0, -1).join('/') || '.'}`;
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return 'bench';
  return url.replace(/^file:\/\//, '');
}

const shortUrl = (url: string) => {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 14);
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
};

export interface WindowOptions {
  /** Count only from the first sample whose stack holds a function of this name (skips start-up). */
  since?: string;
}

function parentsOf(profile: Profile): Map<number, number> {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  return parent;
}

function stackOf(id: number, byId: Map<number, ProfileNode>, parent: Map<number, number>): ProfileNode[] {
  const out: ProfileNode[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) out.push(byId.get(at)!);
  return out;
}

/** Self time (µs) per node id, over the window. */
function selfTimes(profile: Profile, byId: Map<number, ProfileNode>, parent: Map<number, number>, w: WindowOptions): Map<number, number> {
  const self = new Map<number, number>();
  let counting = !w.since;
  profile.samples.forEach((id, i) => {
    if (!counting && stackOf(id, byId, parent).some((n) => n.callFrame.functionName === w.since)) counting = true;
    if (counting) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return self;
}

/** Who calls `name`: its self time by the chain of `depth` callers above it. */
export function callersOf(profile: Profile, name: string, depth = 4, w: WindowOptions = {}): { chain: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = parentsOf(profile);
  const chains = new Map<string, number>();
  for (const [id, us] of selfTimes(profile, byId, parent, w)) {
    const stack = stackOf(id, byId, parent);
    if (stack[0]!.callFrame.functionName !== name) continue;
    const chain = stack
      .slice(1, depth + 1)
      .map((n) => `${n.callFrame.functionName || '(anonymous)'} (${groupOf(n.callFrame)})`)
      .join(' ← ');
    chains.set(chain, (chains.get(chain) ?? 0) + us);
  }
  return [...chains.entries()].sort((a, b) => b[1] - a[1]).map(([chain, us]) => ({ chain, ms: us / 1000 }));
}

/** Inclusive time (µs) per function (name + place), each sample counted once per function on its stack. */
export function inclusive(profile: Profile, w: WindowOptions = {}): { name: string; where: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = parentsOf(profile);
  const total = new Map<string, { name: string; where: string; us: number }>();
  for (const [id, us] of selfTimes(profile, byId, parent, w)) {
    const seen = new Set<string>();
    for (const n of stackOf(id, byId, parent)) {
      const { functionName, url, lineNumber } = n.callFrame;
      const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
      const key = `${functionName}@${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const e = total.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
      e.us += us;
      total.set(key, e);
    }
  }
  return [...total.values()].sort((a, b) => b.us - a.us).map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000 }));
}

export function summarise(profile: Profile, topN = 30, w: WindowOptions = {}): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = selfTimes(profile, byId, parentsOf(profile), w);
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const groups = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id)!;
    total += us;
    if (callFrame.functionName === '(idle)') idle += us;
    const where = callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const key = `${callFrame.functionName}@${where}`;
    const entry = fn.get(key) ?? { name: callFrame.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    fn.set(key, entry);
    const g = groupOf(callFrame);
    groups.set(g, (groups.get(g) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => (100 * us) / Math.max(1, busy);
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    top: [...fn.values()]
      .filter((f) => f.name !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, pct: pct(f.us) })),
    groups: [...groups.entries()]
      .filter(([g]) => g !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .map(([group, us]) => ({ group, ms: us / 1000, pct: pct(us) })),
  };
}

function main() {
  const { values, positionals: files } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "30" }, depth: { type: "string", default: "4" }, since: { type: 'string' }, callers: { type: 'string', multiple: true, default: [] }, inclusive: { type: 'string' } },
  });
  const topN = Number(values.top);
  const w: WindowOptions = values.since ? { since: values.since } : {};
  if (files.length === 0) {
    process.stderr.write('usage: npx tsx bench/profile-summary.ts <file.cpuprofile>… [--top N] [--since placeOrder] [--callers writev]\n');
    process.exit(2);
  }
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
    const s = summarise(profile, topN, w);
    process.stdout.write(`\n${file}\n  sampled ${(s.totalMs / 1000).toFixed(1)} s, busy (not idle) ${(s.busyMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`\n  self time by where the code lives (% of busy)\n`);
    for (const g of s.groups.slice(0, 20)) process.stdout.write(`  ${g.pct.toFixed(1).padStart(5)}%  ${g.ms.toFixed(0).padStart(7)} ms  ${g.group}\n`);
    process.stdout.write(`\n  top ${topN} functions by self time (% of busy)\n`);
    for (const f of s.top) process.stdout.write(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}  ${f.where}\n`);
    if (values.inclusive !== undefined) {
      // e.g. --inclusive src/ : our own functions by inclusive time (what each costs with all it calls)
      process.stdout.write(`\n  inclusive time of functions whose place contains "${values.inclusive}" (% of busy)\n`);
      for (const f of inclusive(profile, w).filter((f) => f.where.includes(values.inclusive!)).slice(0, topN)) {
        process.stdout.write(`  ${((100 * f.ms) / s.busyMs).toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}  ${f.where}\n`);
      }
    }
    for (const name of values.callers) {
      process.stdout.write(`\n  callers of ${name}\n`);
      for (const c of callersOf(profile, name, Number(values.depth), w).slice(0, 12)) process.stdout.write(`  ${c.ms.toFixed(0).padStart(7)} ms  ${c.chain}\n`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
