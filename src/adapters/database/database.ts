/**
 * The one SQL interface of the project: the stores, the migrations and the tests talk to it,
 * and it has two engines (PostgreSQL over `pg`, and PGlite in process). SQL written against it
 * must run on both (PostgreSQL 15 and PGlite's PostgreSQL 18).
 */

export interface Queryable {
  /**
   * Run one statement and return its rows. BIGINT and COUNT values come back as JS numbers,
   * TIMESTAMPTZ as Date. Without `params`, the text may hold several statements (migrations);
   * the rows of the last one are returned.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  readonly engine: 'pg' | 'pglite';
  /**
   * BEGIN, run `fn` with a handle bound to the transaction, COMMIT; ROLLBACK and rethrow when `fn` throws.
   * Inside `fn` use only `tx` (on PGlite the outer handle waits for the transaction to end).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The SQLSTATE of a database error (both engines expose it as `code`), if it is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
