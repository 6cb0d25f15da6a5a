/**
 * The pg adapter on a private PostgreSQL 15 primary and synchronous standby (pg-pair.fixture.ts): a URL
 * naming both finds the writable one, and after the primary crashes and the standby is promoted the same
 * pool writes on the new primary, with only UNAVAILABLE meanwhile and no acknowledged row lost.
 * The cases run in order: the last one crashes the primary.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeckillError } from '../../core/errors.ts';
import { sqlState } from './database.ts';
import { createPgDatabase, type PgDatabase, type PgDatabaseOptions } from './pg-database.ts';
import { pgPairAvailable, startPgPair, type PgNode, type PgPair } from './pg-pair.fixture.ts';

const available = pgPairAvailable();
const CONNECT_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function unavailable(err: unknown): SeckillError {
  expect(err).toBeInstanceOf(SeckillError);
  expect(err).toMatchObject({ code: 'UNAVAILABLE' });
  return err as SeckillError;
}

async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const startedAt = Date.now();
  const error: unknown = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  return { error, ms: Date.now() - startedAt };
}

const insert = (db: PgDatabase, id: number, note = 'x') =>
  db.transaction((tx) => tx.query('INSERT INTO sale_rows (id, note) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, note]));

describe.skipIf(!available)('PostgreSQL failover: several servers in DATABASE_URL', () => {
  let pair: PgPair;
  const opened: PgDatabase[] = [];
  const idleErrors: Error[] = [];
  // A server that takes TCP connections and never answers: a host that is up but hung.
  const hung = net.createServer(() => undefined);
  const hungSockets = new Set<net.Socket>();
  hung.on('connection', (socket) => hungSockets.add(socket));
  const hungPort = () => (hung.address() as net.AddressInfo).port;

  const url = (nodes: (PgNode | number)[], target?: string) =>
    `postgres://postgres@${nodes.map((n) => `127.0.0.1:${typeof n === 'number' ? n : n.port}`).join(',')}/postgres` +
    (target ? `?target_session_attrs=${target}` : '');

  const open = async (dbUrl: string, opts: Partial<PgDatabaseOptions> = {}) => {
    const db = await createPgDatabase({
      url: dbUrl,
      max: 3,
      connectTimeoutMs: CONNECT_MS,
      statementTimeoutMs: 3000,
      onIdleError: (err) => idleErrors.push(err),
      ...opts,
    });
    opened.push(db);
    return db;
  };
  const portOf = async (db: PgDatabase) => (await db.query<{ port: number }>('SELECT inet_server_port() AS port'))[0]?.port;

  beforeAll(async () => {
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    pair = await startPgPair();
    await pair.sql(pair.primary, 'CREATE TABLE sale_rows (id int PRIMARY KEY, note text NOT NULL)');
  });

  afterAll(async () => {
    await pair?.stop();
    await Promise.all(opened.map((db) => Promise.race([db.close().catch(() => undefined), sleep(3000)])));
    for (const socket of hungSockets) socket.destroy();
    await new Promise((resolve) => hung.close(resolve));
  });

  it('a URL naming the standby first connects to the primary and writes there (read-write and primary)', async () => {
    for (const target of ['read-write', 'primary']) {
      const db = await open(url([pair.standby, pair.primary], target), { schema: `shop_${target.replace('-', '_')}` });
      expect(await portOf(db)).toBe(pair.primary.port);
      await db.query('CREATE TABLE IF NOT EXISTS marks (id int PRIMARY KEY)');
      await db.transaction((tx) => tx.query('INSERT INTO marks VALUES (1)'));
      expect(await db.query('SELECT id FROM marks')).toEqual([{ id: 1 }]);
    }
  });

  it('without target_session_attrs (any, like libpq) the first server that answers is used, and a write on a standby is UNAVAILABLE', async () => {
    const db = await open(url([pair.standby, pair.primary]));
    expect(await portOf(db)).toBe(pair.standby.port);
    const { error } = await failure(insert(db, 1));
    expect(sqlState(unavailable(error).cause)).toBe('25006');
  });

  it('a read-only server and a hung one are skipped; with no writable server opening fails UNAVAILABLE within the deadlines', async () => {
    const dbUrl = url([pair.standby, hungPort()], 'read-write');
    const opening = await failure(open(dbUrl, { schema: 'shop_nowhere' }));
    const cause = unavailable(opening.error).cause as Error;
    expect(cause.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${pair.standby.port} read-only`));
    expect(cause.message).toMatch(/timeout/);
    // Each server has its own deadline: the standby answers at once, the hung server takes its whole deadline.
    expect(opening.ms).toBeGreaterThanOrEqual(CONNECT_MS - 50);
    expect(opening.ms).toBeLessThan(2 * CONNECT_MS + 1000);

    const onlyStandby = await open(url([pair.standby], 'read-write'));
    const querying = await failure(onlyStandby.query('SELECT 1'));
    expect((unavailable(querying.error).cause as Error).message).toMatch(/no read-write PostgreSQL server: .*read-only/);
    expect(querying.ms).toBeLessThan(CONNECT_MS);

    // Listed after a hung server, the primary is still found, one deadline later.
    const behindHung = await open(url([hungPort(), pair.primary], 'read-write'));
    expect(await portOf(behindHung)).toBe(pair.primary.port);
  });

  it('connections whose server turns read-only are discarded; writes come back when it takes writes again', async () => {
    const db = await open(url([pair.standby, pair.primary], 'read-write'));
    await Promise.all([1, 2, 3].map(() => db.transaction((tx) => tx.query('SELECT pg_sleep(0.05)'))));
    await pair.sql(pair.primary, 'ALTER SYSTEM SET default_transaction_read_only = on');
    await pair.sql(pair.primary, 'SELECT pg_reload_conf()');
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 100 && codes.at(-1) !== '08001'; i++) {
      const { error } = await failure(insert(db, 10 + i));
      if (error !== undefined) codes.push(sqlState(unavailable(error).cause));
      else await sleep(50);
    }
    // The pooled connections meet 25006 one by one; then a new connection finds no writable server.
    expect(codes).toContain('25006');
    expect(codes.at(-1)).toBe('08001');
    expect(new Set(codes)).toEqual(new Set(['25006', '08001']));

    await pair.sql(pair.primary, 'ALTER SYSTEM RESET default_transaction_read_only');
    await pair.sql(pair.primary, 'SELECT pg_reload_conf()');
    let attempts = 0;
    for (; attempts < 50; attempts++) {
      const { error } = await failure(insert(db, 500));
      if (error === undefined) break;
      unavailable(error);
      await sleep(50);
    }
    expect(attempts).toBeLessThan(50);
    expect(await db.query('SELECT note FROM sale_rows WHERE id = 500')).toEqual([{ note: 'x' }]);
  });

  it('a write waiting past its deadline for the synchronous standby is never answered as done, and nobody sees it until the standby has it', async () => {
    // A cancelled wait would answer COMMIT as done ("already committed locally, but might not have been
    // replicated"): a row a failover then loses, already answered as stored. PostgreSQL ends statement_timeout
    // before the commit, and the client's deadline drops the connection rather than sending a cancel.
    const db = await open(url([pair.primary, pair.standby], 'read-write'), { statementTimeoutMs: 1500 });
    await insert(db, 600);
    const seen = (id: number) => pair.sql<{ id: number }>(pair.primary, `SELECT id FROM sale_rows WHERE id = ${id}`);
    const thaw = pair.freeze(pair.standby);
    let inTransaction: { error: unknown; ms: number };
    let alone: { error: unknown; ms: number };
    try {
      [inTransaction, alone] = await Promise.all([failure(insert(db, 601)), failure(db.query('INSERT INTO sale_rows (id, note) VALUES (602, $1)', ['alone']))]);
      expect(unavailable(inTransaction.error).details).toEqual({ commit: 'unknown' });
      unavailable(alone.error);
      for (const { ms } of [inTransaction, alone]) expect(ms).toBeLessThan(10_000);
      // Past the deadline the primary still waits for the standby: the rows are invisible, as uncommitted.
      await sleep(500);
      expect(await seen(601)).toEqual([]);
      expect(await seen(602)).toEqual([]);
    } finally {
      thaw();
    }
    // Once the standby has them they are committed: the caller's "unknown" resolves to done, on both servers.
    for (let i = 0; i < 100 && (await seen(602)).length === 0; i++) await sleep(50);
    expect(await seen(601)).toEqual([{ id: 601 }]);
    expect(await seen(602)).toEqual([{ id: 602 }]);
  });

  it('failover: the same pool writes on the promoted standby; errors meanwhile are UNAVAILABLE; no acknowledged row is lost', async () => {
    const db = await open(url([pair.primary, pair.standby], 'read-write'));
    const acknowledged: number[] = [];
    for (let id = 1000; id < 1100; id++) {
      await insert(db, id);
      acknowledged.push(id);
    }

    // A COMMIT whose answer is lost: the standby frozen, the COMMIT waits for it, the primary crashes under it.
    const thaw = pair.freeze(pair.standby);
    let lost: unknown;
    try {
      const pending = failure(insert(db, 2000, 'commit answer lost'));
      for (let i = 0; i < 100; i++) {
        const waiting = await pair.sql<{ n: number }>(pair.primary, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
        if (waiting[0]?.n === 1) break;
        await sleep(50);
      }
      await pair.crash(pair.primary);
      lost = (await pending).error;
    } finally {
      thaw();
    }
    expect(unavailable(lost).details).toEqual({ commit: 'unknown' });

    const crashedAt = Date.now();
    const promoting = pair.promote(pair.standby).then(() => Date.now() - crashedAt);
    const errors: unknown[] = [];
    let writtenAt: number | undefined;
    for (let attempt = 0; attempt < 100 && writtenAt === undefined; attempt++) {
      const { error } = await failure(insert(db, 3000, 'after failover'));
      if (error === undefined) writtenAt = Date.now();
      else {
        errors.push(error);
        await sleep(100);
      }
    }
    const promotedAfterMs = await promoting;
    expect(writtenAt).toBeDefined();
    for (const error of errors) unavailable(error);
    console.info(
      `failover: standby promoted ${promotedAfterMs} ms after the crash; first write on it ${writtenAt! - crashedAt} ms after the crash, ` +
        `after ${errors.length} UNAVAILABLE answers (last: ${(errors.at(-1) as Error | undefined)?.cause instanceof Error ? ((errors.at(-1) as Error).cause as Error).message : 'none'})`,
    );

    expect(await portOf(db)).toBe(pair.standby.port);
    const rows = await db.query<{ id: number }>('SELECT id FROM sale_rows WHERE id >= 1000 AND id < 1100 ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(acknowledged);
    expect(await db.query('SELECT note FROM sale_rows WHERE id = 3000')).toEqual([{ note: 'after failover' }]);
    // The connections to the crashed primary were dropped by the pool, not thrown at the process.
    expect(idleErrors.every((err) => err instanceof Error)).toBe(true);
  });
});
