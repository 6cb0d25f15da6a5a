/**
 * PostgreSQL, Redis and RabbitMQ instances of the chaos run's own, on free loopback ports, in a
 * temporary folder: the run stops and starts them at will without touching the machine's services
 * or any other test. Each can be stopped and started again on the same port with the same data
 * (Redis keeps nothing, as in production where it is a cache).
 * (A run on simulated hosts uses engine clusters instead: engine-clusters.ts.)
 */
import { execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { promisify } from 'node:util';
import { acceptsConnections } from '../../support/tcp.ts';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const asRoot = process.getuid?.() === 0;

export interface PrivateService {
  readonly name: 'PostgreSQL' | 'Redis' | 'RabbitMQ';
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  isUp(): Promise<boolean>;
  /** The main process (its children are found from it), undefined while stopped. */
  pid(): number | undefined;
  /** Stop for good and remove its files. */
  destroy(): Promise<void>;
}

/** A loopback port nobody listens on now (and, with `alsoFree`, a second one at a fixed offset). */
export async function freePort(alsoFreeOffset?: number): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const p = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(p));
      });
    });
    if (alsoFreeOffset === undefined) return port;
    if (port + alsoFreeOffset <= 65535 && (await portFree(port + alsoFreeOffset))) return port;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return acceptsConnections(host, port, 500);
}

async function waitFor(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`${what} did not come up within ${ms / 1000} s`);
}

/** Run a program as the service's system user when this process is root (PostgreSQL and RabbitMQ refuse root). */
function as(user: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const fullEnv = { ...process.env, ...env };
  if (!asRoot) return exec(file, args, { env: fullEnv, timeout: 60_000 });
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return exec('runuser', ['-u', user, '--', 'env', ...assignments, file, ...args], { timeout: 60_000, cwd: '/' });
}

function ownedBy(user: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (!asRoot) return;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no system user ${user}`);
  const [, , uid, gid] = line.split(':');
  chownSync(dir, Number(uid), Number(gid));
}

export function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(a) - Number(b)) : [];
  const bin = versions.length ? path.join(base, versions.at(-1)!, 'bin') : '';
  if (!bin || !existsSync(path.join(bin, 'initdb'))) throw new Error('PostgreSQL server programs (initdb, pg_ctl) not found under /usr/lib/postgresql');
  return bin;
}

/** The first line of a pid file, if the file is there. */
function pidFromFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface PrivatePostgres extends PrivateService {
  /** Immediate stop: no checkpoint, every backend killed, as when the host loses power; recovery on start. */
  crash(): Promise<void>;
}

export async function privatePostgres(dir: string): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const port = await freePort();
  const host = '127.0.0.1';
  const data = path.join(dir, 'pg');
  ownedBy('postgres', dir);
  ownedBy('postgres', data);
  await as('postgres', path.join(bin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const opts = `-p ${port} -k ${data} -c listen_addresses=${host} -c max_connections=200`;
  const ctl = (...args: string[]) => as('postgres', path.join(bin, 'pg_ctl'), ['-D', data, ...args]);
  const service: PrivatePostgres = {
    name: 'PostgreSQL',
    url: `postgres://postgres@${host}:${port}/postgres`,
    async start() {
      await ctl('-l', path.join(data, 'server.log'), '-o', opts, '-w', '-t', '60', 'start');
    },
    async stop() {
      // Fast shutdown: open transactions are rolled back, clients cut off, as in a database restart.
      await ctl('-m', 'fast', '-w', '-t', '60', 'stop');
    },
    async crash() {
      await ctl('-m', 'immediate', '-w', '-t', '60', 'stop');
    },
    isUp: () => accepts(port, host),
    pid: () => pidFromFile(path.join(data, 'postmaster.pid')),
    async destroy() {
      await ctl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
      rmSync(data, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}

export async function privateRedis(dir: string): Promise<PrivateService> {
  const port = await freePort();
  const host = '127.0.0.1';
  mkdirSync(dir, { recursive: true });
  const service: PrivateService = {
    name: 'Redis',
    url: `redis://${host}:${port}`,
    async start() {
      const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', path.join(dir, 'redis.log'), '--pidfile', path.join(dir, 'redis.pid')];
      const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
      child.unref();
      await waitFor('Redis', () => accepts(port, host), 20_000);
    },
    async stop() {
      // NOSAVE: the cache comes back empty, as after a crash or a flush.
      await exec('redis-cli', ['-h', host, '-p', String(port), 'shutdown', 'nosave']).catch(() => undefined);
      await waitFor('Redis to stop', async () => !(await accepts(port, host)), 20_000);
    },
    isUp: () => accepts(port, host),
    pid: () => pidFromFile(path.join(dir, 'redis.pid')),
    async destroy() {
      await service.stop().catch(() => undefined);
    },
  };
  await service.start();
  return service;
}

export interface PrivateRabbit extends PrivateService {
  /** Its management API (the reconciler asks it when the pending queue was last empty). */
  readonly managementUrl: string;
  /** Its queue figures are this fresh (collect_statistics_interval). */
  readonly statsIntervalMs: number;
}

/** A second RabbitMQ node on its own ports and data folder (management plugin only), beside the machine's own node. */
export async function privateRabbit(dir: string): Promise<PrivateRabbit> {
  const port = await freePort(20_000);
  const host = '127.0.0.1';
  const managementPort = await freePort();
  const statsIntervalMs = 1000;
  const node = `seckill-chaos-${port}@localhost`;
  const base = path.join(dir, 'rabbitmq');
  for (const sub of ['', 'mnesia', 'log']) ownedBy('rabbitmq', path.join(base, sub));
  writeFileSync(path.join(base, 'enabled_plugins'), '[rabbitmq_management].\n');
  writeFileSync(
    path.join(base, 'rabbitmq.conf'),
    [
      `listeners.tcp.local = ${host}:${port}`,
      'loopback_users = none',
      `management.tcp.ip = ${host}`,
      `management.tcp.port = ${managementPort}`,
      `collect_statistics_interval = ${statsIntervalMs}`,
      '',
    ].join('\n'),
  );
  const env = {
    HOME: asRoot ? '/var/lib/rabbitmq' : (process.env.HOME ?? '/tmp'),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(port + 20_000),
    RABBITMQ_MNESIA_BASE: path.join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(base, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(base, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(base, 'rabbitmq.conf'),
    RABBITMQ_PID_FILE: path.join(base, 'pid'),
  };
  const sbin = existsSync('/usr/lib/rabbitmq/bin') ? '/usr/lib/rabbitmq/bin' : '';
  const tool = (name: string) => (sbin ? path.join(sbin, name) : name);
  const service: PrivateRabbit = {
    name: 'RabbitMQ',
    url: `amqp://guest:guest@${host}:${port}`,
    managementUrl: `http://guest:guest@${host}:${managementPort}`,
    statsIntervalMs,
    async start() {
      await as('rabbitmq', tool('rabbitmq-server'), ['-detached'], env);
      await waitFor('RabbitMQ', () => accepts(port, host), 60_000);
    },
    async stop() {
      await as('rabbitmq', tool('rabbitmqctl'), ['-n', node, 'stop'], env).catch(() => undefined);
      await waitFor('RabbitMQ to stop', async () => !(await accepts(port, host)), 60_000);
      // The Erlang VM may outlive the listener by a moment; start waits for it to be gone.
      await sleep(1000);
    },
    isUp: () => accepts(port, host),
    pid: () => pidFromFile(env.RABBITMQ_PID_FILE),
    async destroy() {
      await service.stop().catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}
