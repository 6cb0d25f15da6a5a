import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INITIAL, LIVE, ORDER_STATUSES, TIMEOUT } from '../../core/order-lifecycle.ts';
import { LIVE_STATES, NEW_ORDER_STATE, OVERDUE_STATES } from './sql-states.ts';

const MIGRATIONS = path.join(import.meta.dirname, '../database/migrations');
const schema = readdirSync(MIGRATIONS)
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => readFileSync(path.join(MIGRATIONS, f), 'utf8'))
  .join('\n');

/** The quoted states of the first `status IN (...)` / `status = '...'` after `anchor` in the migrations. */
function statesAfter(anchor: RegExp): string[] {
  const at = schema.search(anchor);
  expect(at, `${anchor} in the migrations`).toBeGreaterThanOrEqual(0);
  const clause = /status\s*(?:IN\s*\(([^)]*)\)|=\s*('[A-Z]+'))/.exec(schema.slice(at));
  const listed = clause?.[1] ?? clause?.[2] ?? '';
  return [...listed.matchAll(/'([A-Z]+)'/g)].map((m) => m[1]!);
}

describe('the order states in SQL come from the lifecycle table', () => {
  it("the orders table's CHECK allows exactly the table's states", () => {
    expect(statesAfter(/status\s+TEXT NOT NULL CHECK/)).toEqual([...ORDER_STATUSES]);
  });

  it('the one-live-order-per-buyer index covers exactly the live states', () => {
    expect(statesAfter(/CREATE UNIQUE INDEX orders_one_live_per_buyer/)).toEqual([...LIVE]);
  });

  it('the overdue index covers exactly the states a pay timeout closes', () => {
    expect(statesAfter(/CREATE INDEX orders_unpaid_by_deadline/)).toEqual([...TIMEOUT.from]);
  });

  it("the queries' literals are the table's states", () => {
    expect(LIVE_STATES).toBe(`(${LIVE.map((s) => `'${s}'`).join(', ')})`);
    expect(OVERDUE_STATES).toBe(`(${TIMEOUT.from.map((s) => `'${s}'`).join(', ')})`);
    expect(NEW_ORDER_STATE).toBe(`'${INITIAL}'`);
  });
});
