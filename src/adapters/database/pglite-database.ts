/** The `Database` in process: PostgreSQL compiled to WASM (PGlite), on a data folder or in memory. */
import { PGlite, types } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.ts';

export interface PgliteDatabaseOptions {
  /** Data folder; undefined keeps the database in memory. */
  dataDir?: string;
}

/**
 * PGlite is one connection: a transaction must never interleave with another statement, so every
 * call (a lone query or a whole transaction) waits its turn in one queue.
 */
function createQueue() {
  let tail: Promise<unknown> = Promise.resolve();
  return function run<T>(task: () => Promise<T>): Promise<T> {
    const result = tail.then(task);
    tail = result.catch(() => {});
    return result;
  };
}

type Runner = Pick<PGlite, 'query' | 'exec'> | Pick<Transaction, 'query' | 'exec'>;

async function runQuery<T>(on: Runner, sql: string, params?: unknown[]): Promise<T[]> {
  if (params === undefined) {
    // The simple protocol accepts several statements (migrations); keep the rows of the last one.
    const results = await on.exec(sql);
    return (results[results.length - 1]?.rows ?? []) as T[];
  }
  return (await on.query<T>(sql, params)).rows;
}

export async function createPgliteDatabase(opts: PgliteDatabaseOptions = {}): Promise<Database> {
  const pglite = await PGlite.create({
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
    // Same shape as the pg engine: BIGINT (ids, COUNT) as numbers, ids stay far below 2^53.
    parsers: { [types.INT8]: (value: string) => Number(value) },
  });
  const run = createQueue();

  return {
    engine: 'pglite',
    query: (sql, params) => run(() => runQuery(pglite, sql, params)),
    transaction: (fn) =>
      // PGlite's transaction() issues BEGIN/COMMIT and rolls back when fn throws.
      run(() => pglite.transaction((tx) => fn({ query: (sql, params) => runQuery(tx, sql, params) } satisfies Queryable))),
    close: () => run(() => pglite.close()),
  };
}
