/** The `Database` on a PostgreSQL server, through a `pg` connection pool. */
import pg from 'pg';
import type { PoolClient } from 'pg';
import { SeckillError } from '../../core/errors.ts';
import type { Database, Queryable } from './database.ts';

export interface PgDatabase extends Database {
  readonly engine: 'pg';
  /** The schema every connection works in (undefined: the server's default search_path). */
  readonly schema: string | undefined;
  /** Drop the schema and everything in it (tests clean up with this). Refuses without a schema. */
  dropSchema(): Promise<void>;
}

export interface PgDatabaseOptions {
  url: string;
  /** Work in this schema (created if missing): tests isolate themselves by random schemas. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Deadline to get a connection (new or from the pool). Default 5 s. */
  connectTimeoutMs?: number;
  /** Deadline of one statement, enforced by the server (statement_timeout) and the client (query_timeout). Default 15 s. */
  statementTimeoutMs?: number;
  /** Errors of idle pooled connections (a restarted server); without a listener they would crash the process. */
  onIdleError?: (err: Error) => void;
}

const INT8_OID = 20;

/**
 * BIGINT (ids, COUNT) as numbers: ids stay far below 2^53. Set on this pool only, so other pools
 * in the process (another library, another test) keep pg's defaults.
 */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-enum-assignment -- pg's own parser, typed `any` over its TypeId enum
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function quoteSchema(schema: string): string {
  // The name goes into DDL and a connection option, where it cannot be a bind parameter.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  return `"${schema}"`;
}

function rowsOf<T>(result: pg.QueryResult | pg.QueryResult[]): T[] {
  // A parameterless multi-statement text yields one result per statement.
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return (last?.rows ?? []) as T[];
}

/**
 * The server is down, unreachable, shutting down or too slow: a SeckillError UNAVAILABLE (503 at the edge)
 * with the driver's error as cause. Errors about the statement itself (constraint violations …) pass unchanged.
 */
export function isConnectionProblem(err: unknown): boolean {
  if (err instanceof SeckillError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    // 08 connection exception, 57 operator intervention (shutdown, statement_timeout = 57014), 53 resources
    return code.startsWith('08') || code.startsWith('57') || code.startsWith('53');
  }
  if (typeof code === 'string') return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT …
  const message = err instanceof Error ? err.message : '';
  return /timeout|terminated|Connection ended|not queryable|ECONN/i.test(message);
}

const asUnavailable = (err: unknown): unknown =>
  isConnectionProblem(err) ? new SeckillError('UNAVAILABLE', 'The database is unavailable.', { cause: err }) : err;

async function withUnavailable<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asUnavailable(err);
  }
}

async function createSchemaIfMissing(url: string, schema: string, deadlines: pg.ClientConfig): Promise<void> {
  const client = new pg.Client({ connectionString: url, ...deadlines });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteSchema(schema)}`);
  } catch (err) {
    // Two starters creating the same schema at once: the loser sees a unique violation; the schema exists.
    if ((err as { code?: string }).code !== '23505') throw err;
  } finally {
    await client.end();
  }
}

export async function createPgDatabase(opts: PgDatabaseOptions): Promise<PgDatabase> {
  const { url, schema, max = 10, connectTimeoutMs = 5000, statementTimeoutMs = 15_000 } = opts;
  const deadlines = { connectionTimeoutMillis: connectTimeoutMs, query_timeout: statementTimeoutMs + 1000 };
  if (schema !== undefined) await withUnavailable(() => createSchemaIfMissing(url, schema, deadlines));
  const options = [`-c statement_timeout=${statementTimeoutMs}`, ...(schema !== undefined ? [`-c search_path=${quoteSchema(schema)}`] : [])];
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types: typeParsers,
    ...deadlines,
    options: options.join(' '),
  });
  pool.on('error', opts.onIdleError ?? (() => {}));

  const query = async <T>(sql: string, params?: unknown[]): Promise<T[]> =>
    rowsOf<T>(await withUnavailable(() => pool.query(sql, params)));

  async function transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client: PoolClient = await withUnavailable(() => pool.connect());
    // A checked-out client between two statements has no query to fail: pg emits the lost connection as an
    // 'error' event, which would crash the process without a listener. The next statement fails instead.
    const onLost = (): void => undefined;
    client.on('error', onLost);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const tx: Queryable = { query: async (sql, params) => rowsOf(await client.query(sql, params)) };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable: destroy it rather than return it to the pool.
        broken = rollbackError as Error;
      }
      throw asUnavailable(err);
    } finally {
      client.off('error', onLost);
      client.release(broken);
    }
  }

  return {
    engine: 'pg',
    schema,
    query,
    transaction,
    async dropSchema() {
      if (schema === undefined) throw new Error('dropSchema: this database has no schema of its own');
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
    },
    close: () => pool.end(),
  };
}
