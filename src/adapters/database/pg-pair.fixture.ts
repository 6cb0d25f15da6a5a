/**
 * A private PostgreSQL 15 primary and streaming standby on free loopback ports, in a temp folder, for one
 * test file: the primary with wal_level=replica and synchronous_standby_names='*' (a commit is answered once
 * the standby has it), the standby made by `pg_basebackup -R`. Never the machine's own server.
 *
 * Run as the `postgres` OS user when the tests run as root (PostgreSQL refuses root). `stop()` stops both
 * servers and removes the folder; they are also stopped if the test process exits without it.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

export const PG_BIN = process.env.SECKILL_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const BINARIES = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'];
const asRoot = process.getuid?.() === 0;
const run = promisify(execFile);

/** True when the pair can be made; false (with a message) otherwise; throws under CI=true. */
export function pgPairAvailable(): boolean {
  const problems = BINARIES.filter((bin) => !fs.existsSync(path.join(PG_BIN, bin))).map((bin) => `${PG_BIN}/${bin} missing`);
  if (asRoot && spawnSync('id', ['-u', 'postgres']).status !== 0) problems.push('no `postgres` OS user to run the servers as');
  if (problems.length === 0) return true;
  const message = `skipping the PostgreSQL failover tests: ${problems.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`${message} — CI never skips real-service tests`);
  console.warn(message);
  return false;
}

export interface PgNode {
  readonly name: 'primary' | 'standby';
  readonly port: number;
  readonly dataDir: string;
  /** A libpq URL of this server alone. */
  readonly url: string;
}

export interface PgPair {
  readonly primary: PgNode;
  readonly standby: PgNode;
  /** `pg_ctl stop -m immediate`: a crash as far as clients and the standby can tell. */
  crash(node: PgNode): Promise<void>;
  /** `pg_ctl promote`, waiting until the standby takes writes. */
  promote(node: PgNode): Promise<void>;
  /** Freeze every process of a server (SIGSTOP): it keeps its sockets and answers nothing, until the returned function. */
  freeze(node: PgNode): () => void;
  /** Run one statement on a server as the superuser, on a connection of its own. */
  sql<T = Record<string, unknown>>(node: PgNode, text: string): Promise<T[]>;
  stop(): Promise<void>;
}

function pgTool(bin: string, args: string[], cwd: string): Promise<unknown> {
  const cmd = path.join(PG_BIN, bin);
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return run(file, argv, { cwd, timeout: 60_000 });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function freePort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || !(await portFree(port))) continue;
    taken.add(port);
    return port;
  }
  throw new Error('no free port for a PostgreSQL server');
}

const postmasterPid = (node: PgNode): number | undefined => {
  try {
    return Number(fs.readFileSync(path.join(node.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
};

/** The postmaster and its children (backends, walsender or walreceiver …). */
function processesOf(node: PgNode): number[] {
  const pid = postmasterPid(node);
  if (pid === undefined) return [];
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  return [pid, ...children.split('\n').map(Number).filter((n) => n > 0)];
}

const settings = (port: number, extra: string[]) =>
  [`port = ${port}`, "listen_addresses = '127.0.0.1'", "unix_socket_directories = ''", 'shared_buffers = 16MB', 'max_connections = 40', ...extra]
    .map((line) => `${line}\n`)
    .join('');

export async function startPgPair(): Promise<PgPair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seckill-pg-pair-'));
  if (asRoot) execFileSync('chown', ['postgres:', dir]);
  const taken = new Set<number>();
  const node = async (name: PgNode['name']): Promise<PgNode> => {
    const port = await freePort(taken);
    return { name, port, dataDir: path.join(dir, name), url: `postgres://postgres@127.0.0.1:${port}/postgres` };
  };
  const primary = await node('primary');
  const standby = await node('standby');
  const frozen = new Set<number>();

  const stopSync = () => {
    for (const pid of frozen) spawnSync('kill', ['-CONT', String(pid)]);
    for (const n of [primary, standby]) {
      if (postmasterPid(n) === undefined) continue;
      const cmd = path.join(PG_BIN, 'pg_ctl');
      const args = ['stop', '-D', n.dataDir, '-m', 'immediate', '-w', '-t', '20'];
      spawnSync(asRoot ? 'runuser' : cmd, asRoot ? ['-u', 'postgres', '--', cmd, ...args] : args, { cwd: dir, timeout: 30_000 });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // A run that dies before stop() must not leave servers behind.
  process.once('exit', stopSync);
  const stop = async () => {
    process.removeListener('exit', stopSync);
    stopSync();
  };
  const start = (n: PgNode) => pgTool('pg_ctl', ['start', '-D', n.dataDir, '-l', path.join(dir, `${n.name}.log`), '-w', '-t', '30'], dir);

  const sql = async <T,>(n: PgNode, text: string): Promise<T[]> => {
    // Writable by default even on a server told to make sessions read-only (the tests turn it back).
    const client = new pg.Client({ connectionString: n.url, connectionTimeoutMillis: 5000, query_timeout: 10_000, options: '-c default_transaction_read_only=off' });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(text)).rows as T[];
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  try {
    await pgTool('initdb', ['-D', primary.dataDir, '-U', 'postgres', '-A', 'trust', '--no-locale', '-E', 'UTF8', '--no-sync'], dir);
    fs.appendFileSync(
      path.join(primary.dataDir, 'postgresql.conf'),
      settings(primary.port, ['wal_level = replica', 'max_wal_senders = 5', "synchronous_standby_names = '*'", 'synchronous_commit = on']),
    );
    await start(primary);
    await pgTool('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', standby.dataDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'], dir);
    // Alone after a promotion, the standby must not wait for a standby of its own before answering commits.
    fs.appendFileSync(path.join(standby.dataDir, 'postgresql.conf'), settings(standby.port, ["synchronous_standby_names = ''", 'hot_standby = on']));
    await start(standby);
    for (let i = 0; ; i++) {
      const rows = await sql<{ n: number }>(primary, "SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = 'sync'");
      if (rows[0]?.n === 1) break;
      if (i > 150) throw new Error('the standby did not start streaming synchronously');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    const logs = ['primary', 'standby'].map((n) => path.join(dir, `${n}.log`)).filter((f) => fs.existsSync(f));
    const tail = logs.map((f) => `--- ${path.basename(f)}\n${fs.readFileSync(f, 'utf8').slice(-2000)}`).join('\n');
    await stop();
    throw new Error(`could not start the PostgreSQL pair: ${(err as Error).message}\n${tail}`, { cause: err });
  }

  return {
    primary,
    standby,
    sql,
    stop,
    async crash(n) {
      await pgTool('pg_ctl', ['stop', '-D', n.dataDir, '-m', 'immediate', '-w', '-t', '30'], dir);
    },
    async promote(n) {
      await pgTool('pg_ctl', ['promote', '-D', n.dataDir, '-w', '-t', '30'], dir);
    },
    freeze(n) {
      const pids = processesOf(n);
      for (const pid of pids) {
        process.kill(pid, 'SIGSTOP');
        frozen.add(pid);
      }
      return () => {
        for (const pid of pids) {
          frozen.delete(pid);
          try {
            process.kill(pid, 'SIGCONT');
          } catch {
            // already gone
          }
        }
      };
    },
  };
}
