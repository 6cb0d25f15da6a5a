/** The `Database` on a PostgreSQL server (or the writable one of several), through a `pg` connection pool. */
import pg from 'pg';
import type { PoolClient } from 'pg';
import { SeckillError } from '../../core/errors.ts';
import { sqlState, type Database, type Queryable } from './database.ts';
import { parsePgServers } from './pg-hosts.ts';
import { ServerChoice, WalkingClient, walkingClientClass } from './pg-server-walk.ts';

export interface PgDatabase extends Database {
  readonly engine: 'pg';
  /** The schema every connection works in (undefined: the server's default search_path). */
  readonly schema: string | undefined;
  /** Drop the schema and everything in it (tests clean up with this). Refuses without a schema. */
  dropSchema(): Promise<void>;
}

export interface PgDatabaseOptions {
  /**
   * One server, or several libpq-style (`postgres://u@db1:5432,db2:5432/shop?target_session_attrs=read-write`):
   * each new connection tries them in order (the last good one first) and keeps the first that fits.
   */
  url: string;
  /** Work in this schema (created if missing): tests isolate themselves by random schemas. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /**
   * Deadline to get a connection (new or from the pool). Default 5 s. With several servers it is each
   * server's deadline (libpq's connect_timeout), and getting a connection takes at most that many times it.
   */
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

const READ_ONLY_SQL_TRANSACTION = '25006';
/** statement_timeout: the statement is cancelled, its connection is fine. */
const QUERY_CANCELED = '57014';
/** admin_shutdown, crash_shutdown, cannot_connect_now: the server is going away or not yet a primary. */
const SERVER_GOING_AWAY = ['57P01', '57P02', '57P03'];

/**
 * The server is down, unreachable, shutting down or too slow: a SeckillError UNAVAILABLE (503 at the edge)
 * with the driver's error as cause. Errors about the statement itself (constraint violations …) pass unchanged.
 */
export function isConnectionProblem(err: unknown): boolean {
  if (err instanceof SeckillError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    // 08 connection exception, 57 operator intervention (shutdown, statement_timeout = 57014), 53 resources,
    // 25006 a write reaching a server that became read-only (a demoted primary): the next connection looks again
    return code.startsWith('08') || code.startsWith('57') || code.startsWith('53') || code === READ_ONLY_SQL_TRANSACTION;
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

/** The SQLSTATE of an error that says its server can no longer take the shop's writes. */
function serverRefusesWrites(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === READ_ONLY_SQL_TRANSACTION || (typeof code === 'string' && SERVER_GOING_AWAY.includes(code));
}

async function createSchemaIfMissing(client: pg.Client, schema: string): Promise<void> {
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
  const target = parsePgServers(url);
  // One server as written: node-postgres connects as it always did. Otherwise each new connection walks the
  // servers, each within connectTimeoutMs, and the pool waits for the whole walk.
  const Client = target.plain
    ? pg.Client
    : walkingClientClass(
        { servers: target.servers, targetSessionAttrs: target.targetSessionAttrs, perServerTimeoutMs: connectTimeoutMs },
        new ServerChoice(target.servers.length),
      );
  const connectionTimeoutMillis = connectTimeoutMs * target.servers.length;
  const deadlines = { connectionTimeoutMillis, query_timeout: statementTimeoutMs + 1000 };
  const where = target.plain ? { connectionString: url } : {};
  if (schema !== undefined) await withUnavailable(() => createSchemaIfMissing(new Client({ ...where, ...deadlines }), schema));
  const options = [`-c statement_timeout=${statementTimeoutMs}`, ...(schema !== undefined ? [`-c search_path=${quoteSchema(schema)}`] : [])];
  const pool = new pg.Pool({
    ...where,
    ...(target.plain ? {} : { Client }),
    max,
    types: typeParsers,
    ...deadlines,
    options: options.join(' '),
  });
  pool.on('error', opts.onIdleError ?? (() => {}));
  // A connection released with such an error is discarded by the pool (released with the error); its server
  // is also struck off, so the next connection looks for the primary and the others on it go when released.
  pool.on('release', (err, client) => {
    if (client instanceof WalkingClient && serverRefusesWrites(err)) client.demote();
  });

  const query = async <T>(sql: string, params?: unknown[]): Promise<T[]> =>
    rowsOf<T>(await withUnavailable(() => pool.query(sql, params)));

  async function transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client: PoolClient = await withUnavailable(() => pool.connect());
    // A checked-out client between two statements has no query to fail: pg emits the lost connection as an
    // 'error' event, which would crash the process without a listener. The next statement fails instead.
    const onLost = (): void => undefined;
    client.on('error', onLost);
    let broken: Error | undefined;
    let committing = false;
    try {
      await client.query('BEGIN');
      const tx: Queryable = { query: async (sql, params) => rowsOf(await client.query(sql, params)) };
      const result = await fn(tx);
      committing = true;
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (isConnectionProblem(err) && sqlState(err) !== QUERY_CANCELED) {
        // Down, shutting down, read-only: this connection must not serve again, the next one looks afresh.
        broken = err as Error;
        if (committing) {
          // COMMIT's answer was lost: the transaction may have committed or not. It is not redone here; the
          // callers' work is idempotent (request ids, order numbers) and is redone from the redelivered message.
          throw new SeckillError('UNAVAILABLE', 'The database became unavailable during COMMIT: the transaction may or may not have been committed.', {
            cause: err,
            details: { commit: 'unknown' },
          });
        }
      }
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable: destroy it rather than return it to the pool.
        broken ??= rollbackError as Error;
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
