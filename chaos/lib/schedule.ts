/**
 * The fault schedule of a chaos run, made from a seed alone (printed at the start, so a run can be
 * replayed with --seed). Faults that last (a service stopped, crashed or frozen, a role frozen) take turns
 * on one track, never two at once, so each one's effect can be told apart; kills, flushes and message
 * faults fall at random moments over the same span, also inside the lasting ones.
 */
import type { Random } from './random.ts';

/** A frozen role or service (SIGSTOP … SIGCONT): it refuses nothing and answers nothing meanwhile. */
export const FREEZES = ['freeze-api', 'freeze-worker', 'freeze-ws', 'freeze-redis', 'freeze-rabbitmq', 'freeze-postgres'] as const;
/**
 * Cuts in the network between simulated hosts (--hosts only, hosts.ts): two hosts exchange no packet either
 * way while each still reaches everyone else, or one role host's cable is pulled.
 */
export const PARTITIONS = ['partition-worker-broker', 'partition-worker-db', 'partition-api-redis', 'partition-ws-broker', 'link-down'] as const;
/**
 * Nodes of the engine clusters (--hosts only, engine-clusters.ts) killed (kill -9 of every process on the host,
 * back on the same data after the fault's duration) or cut off, each engine failing over by its own mechanism.
 */
export const FAILOVERS = ['kill-postgres-primary', 'kill-rabbitmq-node', 'kill-redis-master', 'partition-rabbitmq-node', 'partition-postgres-primary'] as const;
/** The lasting faults: they take turns on one track. */
export const OUTAGES = ['rabbitmq-restart', 'redis-outage', 'postgres-outage', 'postgres-crash', ...FREEZES, ...PARTITIONS, ...FAILOVERS] as const;
export const INSTANT = ['kill-api', 'kill-worker', 'kill-ws', 'redis-flush', 'duplicate-delivery', 'lost-timeout'] as const;
export type FaultKind = (typeof OUTAGES)[number] | (typeof INSTANT)[number];
/** Every fault a run on one host can fire. */
export const FAULT_KINDS: readonly FaultKind[] = [...OUTAGES, ...INSTANT].filter((k) => !(PARTITIONS as readonly string[]).includes(k) && !(FAILOVERS as readonly string[]).includes(k));
/** A run on simulated hosts: the partitions and the engines' failovers, with the kills and the message faults. */
export const HOSTS_KINDS: readonly FaultKind[] = [...PARTITIONS, ...FAILOVERS, 'kill-api', 'kill-worker', 'kill-ws', 'duplicate-delivery', 'lost-timeout'];

export interface PlannedFault {
  /** Milliseconds after the schedule starts. */
  atMs: number;
  kind: FaultKind;
  /** How long an outage lasts. */
  downMs?: number;
  /** Which variant: a process index for kills, a message kind for duplicates. */
  variant?: number;
}

/**
 * How long each lasting fault holds: Redis down at least 5 s, PostgreSQL at least 30 s; the freezes as long
 * as an operator's bad afternoon (worker 20 s, PostgreSQL 20 s, RabbitMQ 12 s, api and push 10 s, Redis
 * 8 s), all past the reconciler's grace period; the partitions 9–30 s, past it too, and long enough for
 * TCP to notice (retransmissions, heartbeats) or not (a short cut heals under an open connection).
 */
const DOWN_MS: Record<(typeof OUTAGES)[number], [number, number]> = {
  'rabbitmq-restart': [2000, 6000],
  'redis-outage': [5000, 9000],
  'postgres-outage': [30_000, 36_000],
  'postgres-crash': [8000, 12_000],
  'freeze-api': [9000, 12_000],
  'freeze-worker': [18_000, 22_000],
  'freeze-ws': [9000, 12_000],
  'freeze-redis': [7000, 10_000],
  'freeze-rabbitmq': [11_000, 14_000],
  'freeze-postgres': [18_000, 22_000],
  'partition-worker-broker': [10_000, 30_000],
  'partition-worker-db': [9000, 30_000],
  'partition-api-redis': [9000, 20_000],
  'partition-ws-broker': [9000, 25_000],
  'link-down': [9000, 20_000],
  // How long the killed node stays dead: past each engine's failover (PostgreSQL ~15 s, RabbitMQ and Redis a
  // few seconds), so the shop runs on the survivors for a while.
  'kill-postgres-primary': [20_000, 35_000],
  'kill-rabbitmq-node': [8000, 25_000],
  'kill-redis-master': [6000, 20_000],
  'partition-rabbitmq-node': [5000, 30_000],
  'partition-postgres-primary': [5000, 30_000],
};
/** What coming back costs on top of the time down (RabbitMQ's node takes seconds to boot). */
const RESTART_MS: Record<(typeof OUTAGES)[number], number> = {
  'rabbitmq-restart': 6000,
  'redis-outage': 500,
  'postgres-outage': 1000,
  'postgres-crash': 2000,
  'freeze-api': 500,
  'freeze-worker': 500,
  'freeze-ws': 500,
  'freeze-redis': 500,
  'freeze-rabbitmq': 500,
  'freeze-postgres': 500,
  // After a long cut TCP retransmits seconds apart: a connection may take that long to carry again.
  'partition-worker-broker': 3000,
  'partition-worker-db': 3000,
  'partition-api-redis': 3000,
  'partition-ws-broker': 3000,
  'link-down': 3000,
  // The fault itself waits until its cluster is whole again (the node rejoined); this is only the margin.
  'kill-postgres-primary': 2000,
  'kill-rabbitmq-node': 2000,
  'kill-redis-master': 2000,
  'partition-rabbitmq-node': 2000,
  'partition-postgres-primary': 2000,
};

export interface PlanOptions {
  gapMs?: [number, number];
  leadMs?: number;
  /** Only these kinds (default: all). */
  kinds?: readonly FaultKind[];
}

export function planFaults(random: Random, perKind: number, opts: PlanOptions = {}): PlannedFault[] {
  const [gapMin, gapMax] = opts.gapMs ?? [4000, 9000];
  const wanted = new Set(opts.kinds ?? FAULT_KINDS);
  const outages: (typeof OUTAGES)[number][] = [];
  for (const kind of OUTAGES) if (wanted.has(kind)) for (let i = 0; i < perKind; i++) outages.push(kind);
  // Fisher–Yates with the seeded source: the order of outages is part of the replayable schedule.
  for (let i = outages.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [outages[i], outages[j]] = [outages[j]!, outages[i]!];
  }
  const plan: PlannedFault[] = [];
  let at = opts.leadMs ?? 3000;
  for (const kind of outages) {
    const [min, max] = DOWN_MS[kind];
    const downMs = random.int(min, max);
    plan.push({ atMs: at, kind, downMs, variant: random.int(0, 1_000_000) });
    at += downMs + RESTART_MS[kind] + random.int(gapMin, gapMax);
  }
  const span = at;
  for (const kind of INSTANT) {
    if (!wanted.has(kind)) continue;
    for (let i = 0; i < perKind; i++) plan.push({ atMs: random.int(opts.leadMs ?? 3000, span), kind, variant: random.int(0, 1_000_000) });
  }
  return plan.sort((a, b) => a.atMs - b.atMs);
}

/** One line per fault, for the report and for comparing two runs of one seed. */
export function describePlan(plan: readonly PlannedFault[]): string {
  return plan
    .map((f) => `  ${(f.atMs / 1000).toFixed(1).padStart(7)} s  ${f.kind}${f.downMs ? ` (down ${(f.downMs / 1000).toFixed(1)} s)` : ''}`)
    .join('\n');
}
