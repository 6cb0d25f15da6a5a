/**
 * Where the machine's CPU went during a scenario, per process group: the children of the stack by role,
 * the bench itself (the load generator), and the services (RabbitMQ, PostgreSQL, Redis) by process name.
 * Linux /proc only; elsewhere it reports nothing. Anything else running on the machine (other people's
 * tests) shows as "other", so a noisy run can be told from a slow one.
 */
import fs from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ on Linux

export interface CpuSnapshot {
  at: number;
  /** CPU seconds per group. */
  groups: Map<string, number>;
  /** Of which in the kernel (system time). */
  sys: Map<string, number>;
  /** CPU seconds of the whole machine (all cores, busy only). */
  machineBusy: number;
}

export type GroupOf = () => Map<number, string>;

const SERVICE_NAMES: Record<string, string> = {
  'beam.smp': 'rabbitmq',
  erl_child_setup: 'rabbitmq',
  epmd: 'rabbitmq',
  postgres: 'postgres',
  'redis-server': 'redis',
};

function procCpuSeconds(pid: number): { total: number; sys: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]) / TICKS_PER_S; // utime
    const sys = Number(fields[12]) / TICKS_PER_S; // stime
    return { total: user + sys, sys };
  } catch {
    return null;
  }
}

function machineBusySeconds(): number {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [, ...v] = line.trim().split(/\s+/).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return (v.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/** `children`: pid → role of the stack's processes (api, worker, ws …). */
export function cpuSnapshot(children: Map<number, string>): CpuSnapshot {
  const groups = new Map<string, number>();
  const sys = new Map<string, number>();
  const add = (g: string, t: { total: number; sys: number } | null) => {
    if (!t) return;
    groups.set(g, (groups.get(g) ?? 0) + t.total);
    sys.set(g, (sys.get(g) ?? 0) + t.sys);
  };
  for (const [pid, role] of children) add(role, procCpuSeconds(pid));
  const own = process.cpuUsage();
  add('bench (load generator)', { total: (own.user + own.system) / 1e6, sys: own.system / 1e6 });
  let dirs: string[] = [];
  try {
    dirs = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    /* not Linux */
  }
  for (const d of dirs) {
    let comm: string;
    try {
      comm = fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    const group = SERVICE_NAMES[comm];
    if (group) add(group, procCpuSeconds(Number(d)));
  }
  return { at: performance.now(), groups, sys, machineBusy: machineBusySeconds() };
}

export interface CpuUse {
  seconds: number;
  /** Cores used on average by each group over the interval; "other" is the rest of the machine. */
  cores: Record<string, number>;
  /** Share of each group's CPU spent in the kernel. */
  sysShare: Record<string, number>;
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const seconds = (b.at - a.at) / 1000;
  const cores: Record<string, number> = {};
  const sysShare: Record<string, number> = {};
  let listed = 0;
  for (const [g, s] of b.groups) {
    const used = Math.max(0, s - (a.groups.get(g) ?? 0));
    listed += used;
    cores[g] = used / seconds;
    sysShare[g] = used > 0 ? Math.max(0, (b.sys.get(g) ?? 0) - (a.sys.get(g) ?? 0)) / used : 0;
  }
  const busy = b.machineBusy - a.machineBusy;
  if (Number.isFinite(busy)) cores.other = Math.max(0, busy - listed) / seconds;
  return { seconds, cores, sysShare };
}

/** CPU µs per operation (request, order …) of each group: steadier than rates on a shared machine. */
export function cpuPerOp(use: CpuUse, ops: number): Record<string, number> {
  return Object.fromEntries(Object.entries(use.cores).map(([g, c]) => [g, (c * use.seconds * 1e6) / Math.max(1, ops)]));
}

export function formatCpu(use: CpuUse, ops?: { count: number; unit: string }): string {
  const per = ops ? cpuPerOp(use, ops.count) : {};
  return Object.entries(use.cores)
    .filter(([, c]) => c >= 0.01)
    .sort((x, y) => y[1] - x[1])
    .map(([g, c]) => `${g} ${c.toFixed(2)}${ops && g !== 'other' ? ` (${Math.round(per[g]!)} µs/${ops.unit}, ${Math.round(100 * (use.sysShare[g] ?? 0))}% sys)` : ''}`)
    .join(', ');
}

/**
 * Peak resident memory (VmHWM, MiB) of each process, by group (the largest when a group has several).
 * The kernel keeps the peak since the process started, or since `resetPeakRss`.
 */
export function peakRss(children: Map<number, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, group] of children) {
    let kb: number;
    try {
      kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    } catch {
      continue;
    }
    if (Number.isFinite(kb)) out[group] = Math.max(out[group] ?? 0, kb / 1024);
  }
  return out;
}

/** Starts the peak over from the current size ("5" into clear_refs, Linux ≥ 4.0), so each run has its own. */
export function resetPeakRss(children: Map<number, string>): void {
  for (const pid of children.keys()) {
    try {
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      /* not Linux, or not ours */
    }
  }
}
