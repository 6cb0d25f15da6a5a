import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.ts';
import { FAILOVERS, FAULT_KINDS, HOSTS_KINDS, OUTAGES, PARTITIONS, planFaults } from './schedule.ts';

describe('chaos schedule', () => {
  it('one seed gives one schedule; another seed another', () => {
    expect(planFaults(seededRandom(42), 3)).toEqual(planFaults(seededRandom(42), 3));
    expect(planFaults(seededRandom(42), 3)).not.toEqual(planFaults(seededRandom(43), 3));
  });

  it('holds every kind the asked number of times, in time order', () => {
    const plan = planFaults(seededRandom(7), 10);
    for (const kind of FAULT_KINDS) expect(plan.filter((f) => f.kind === kind)).toHaveLength(10);
    expect(plan.map((f) => f.atMs)).toEqual([...plan.map((f) => f.atMs)].sort((a, b) => a - b));
  });

  it('never has two outages at once, and keeps Redis down ≥ 5 s and PostgreSQL ≥ 30 s', () => {
    const outages = planFaults(seededRandom(99), 10).filter((f) => (OUTAGES as readonly string[]).includes(f.kind));
    for (let i = 1; i < outages.length; i++) expect(outages[i]!.atMs).toBeGreaterThan(outages[i - 1]!.atMs + outages[i - 1]!.downMs!);
    for (const f of outages) {
      if (f.kind === 'redis-outage') expect(f.downMs).toBeGreaterThanOrEqual(5000);
      if (f.kind === 'postgres-outage') expect(f.downMs).toBeGreaterThanOrEqual(30_000);
    }
  });

  it('plans partitions only on simulated hosts, each longer than the run\'s 8 s reconciler grace and at most 30 s', () => {
    expect(planFaults(seededRandom(5), 3).filter((f) => (PARTITIONS as readonly string[]).includes(f.kind))).toEqual([]);
    const plan = planFaults(seededRandom(5), 5, { kinds: HOSTS_KINDS });
    for (const kind of HOSTS_KINDS) expect(plan.filter((f) => f.kind === kind)).toHaveLength(5);
    expect(plan.filter((f) => f.kind === 'redis-flush')).toEqual([]);
    for (const f of plan.filter((p) => (PARTITIONS as readonly string[]).includes(p.kind))) {
      expect(f.downMs).toBeGreaterThan(8000);
      expect(f.downMs).toBeLessThanOrEqual(30_000);
    }
  });

  it('plans the engines\' failovers only on simulated hosts (a run on one host has single engines): kills past the failover, cuts of 5–30 s', () => {
    expect(planFaults(seededRandom(5), 3).filter((f) => (FAILOVERS as readonly string[]).includes(f.kind))).toEqual([]);
    const plan = planFaults(seededRandom(11), 5, { kinds: HOSTS_KINDS });
    for (const kind of FAILOVERS) expect(plan.filter((f) => f.kind === kind)).toHaveLength(5);
    for (const f of plan) {
      if (f.kind === 'kill-postgres-primary') expect(f.downMs).toBeGreaterThanOrEqual(20_000);
      if (f.kind === 'partition-postgres-primary' || f.kind === 'partition-rabbitmq-node') {
        expect(f.downMs).toBeGreaterThanOrEqual(5000);
        expect(f.downMs).toBeLessThanOrEqual(30_000);
      }
    }
  });
});
