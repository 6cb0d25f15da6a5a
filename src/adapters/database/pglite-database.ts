/** The `Database` in process: PostgreSQL compiled to WASM (PGlite), on a data folder or in memory. */
import { PGlite, types } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Database, Queryable } from './database.ts';

/**
 * PGlite's own start parameters (single user, no parallel workers …) with a smaller buffer cache: the
 * default shared_buffers of 128 MB is zeroed at start, so it is resident from the first second, while the
 * shop's working set (goods, recent orders and results) fits in a fraction of it and the OS page cache
 * holds the rest of the data folder. WAL, fsync and commit settings stay PGlite's own (no relaxed
 * durability): what a commit has written is where it was before.
 */
export const PGLITE_START_PARAMS: readonly string[] = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

/**
 * A new data folder is initialised (initdb) by a short-lived child process: initdb runs in a WASM instance
 * of its own, and the few hundred MB it touches would otherwise stay in this process's resident memory
 * long after it is done. The child only creates the folder and closes it cleanly; this process then opens
 * it like any later start would.
 */
async function initialiseDataDir(dataDir: string): Promise<void> {
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  const script = `
    const mod = await import(process.argv[1]);
    const PGlite = mod.PGlite ?? mod.default.PGlite;
    const db = await PGlite.create({ dataDir: process.argv[2], startParams: JSON.parse(process.argv[3]) });
    await db.close();`;
  await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script, import.meta.resolve('@electric-sql/pglite'), dataDir, JSON.stringify(PGLITE_START_PARAMS)],
    { timeout: 120_000 },
  );
}

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
  if (opts.dataDir !== undefined) await initialiseDataDir(opts.dataDir);
  const pglite = await PGlite.create({
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
    startParams: [...PGLITE_START_PARAMS],
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
