import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.ts';
import { FAULT_KINDS, OUTAGES, planFaults } from './schedule.ts';

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
});
