/**
 * A private three-node RabbitMQ cluster on free loopback ports, in a temp folder, for one test file: each node
 * with its own node name, AMQP, distribution and management ports, data and log folders, and one Erlang
 * cookie of the cluster's own (in a private HOME), so it can never join or disturb the machine's RabbitMQ.
 * The three boot at once and form the cluster by themselves (classic_config peer discovery: the first to
 * take the formation lock starts it, the others join); a node that booted alone all the same is joined by
 * hand (stop_app, join_cluster, start_app). Every CLI call costs seconds, so readiness is read off the ports
 * and the management API instead.
 *
 * Run as the `rabbitmq` OS user when the tests run as root (RabbitMQ refuses root). `stop()` kills the
 * nodes and removes the folder; they are also killed if the test process exits without it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { acceptsConnections } from '../../../support/tcp.ts';

const SBIN = fs.existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server') ? '/usr/lib/rabbitmq/bin' : '/usr/sbin';
const asRoot = process.getuid?.() === 0;
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How old the queue figures of the management API may be: short, so the drain tests are quick. */
export const STATS_INTERVAL_MS = 1000;

/** True when the cluster can be made; false (with a message) otherwise; throws under CI=true. */
export function rabbitClusterAvailable(): boolean {
  const problems: string[] = [];
  for (const tool of ['rabbitmq-server', 'rabbitmqctl']) if (!fs.existsSync(path.join(SBIN, tool))) problems.push(`${SBIN}/${tool} missing`);
  if (asRoot && spawnSync('id', ['-u', 'rabbitmq']).status !== 0) problems.push('no `rabbitmq` OS user to run the nodes as');
  if (problems.length === 0) return true;
  const message = `skipping the RabbitMQ cluster tests: ${problems.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`${message} — CI never skips real-service tests`);
  console.warn(message);
  return false;
}

export interface RabbitNode {
  readonly index: 1 | 2 | 3;
  /** Erlang node name, e.g. seckill-cluster-4711-1@localhost */
  readonly name: string;
  readonly port: number;
  /** amqp://guest:guest@127.0.0.1:port */
  readonly url: string;
  /** http://guest:guest@127.0.0.1:managementPort */
  readonly managementUrl: string;
  /** How the bus names it: 127.0.0.1:port */
  readonly label: string;
}

export interface RabbitCluster {
  readonly nodes: readonly [RabbitNode, RabbitNode, RabbitNode];
  /** kill -9 of the node's Erlang VM (beam.smp, from its pid file): a crash as far as clients and peers can tell. */
  kill(node: RabbitNode): void;
  /** Start a killed node again on its data: it rejoins the cluster. */
  restart(node: RabbitNode): Promise<void>;
  rabbitmqctl(node: RabbitNode, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Below the kernel's ephemeral range and clear of 4369, 5672, 15672, 25672 and the CLI's 35672–35682. */
async function freePort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port) || port === 25672 || !(await portFree(port))) continue;
    taken.add(port);
    return port;
  }
  throw new Error('no free port for a RabbitMQ node');
}

const accepts = (port: number) => acceptsConnections('127.0.0.1', port, 500);

async function waitFor(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`waited ${ms / 1000} s for ${what}`);
}

function chownToRabbit(file: string): void {
  if (asRoot) spawnSync('chown', ['-R', 'rabbitmq:rabbitmq', file]);
}

export async function startRabbitCluster(): Promise<RabbitCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seckill-rabbit-cluster-'));
  fs.chmodSync(dir, 0o755);
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  // The cluster's own cookie: Erlang reads $HOME/.erlang.cookie and refuses one others can read.
  fs.writeFileSync(path.join(home, '.erlang.cookie'), randomBytes(15).toString('hex').toUpperCase(), { mode: 0o400 });
  chownToRabbit(home);

  const nodeName = (index: number) => `seckill-cluster-${process.pid}-${index}@localhost`;
  const taken = new Set<number>();
  const envs = new Map<number, NodeJS.ProcessEnv>();
  const pidFiles = new Map<number, string>();
  const nodes = [] as unknown as [RabbitNode, RabbitNode, RabbitNode];
  for (const index of [1, 2, 3] as const) {
    const port = await freePort(taken);
    const managementPort = await freePort(taken);
    const distPort = await freePort(taken);
    const name = nodeName(index);
    const base = path.join(dir, `node${index}`);
    for (const sub of ['', 'mnesia', 'log']) fs.mkdirSync(path.join(base, sub), { recursive: true });
    fs.writeFileSync(path.join(base, 'enabled_plugins'), '[rabbitmq_management].\n');
    fs.writeFileSync(
      path.join(base, 'rabbitmq.conf'),
      [
        `listeners.tcp.local = 127.0.0.1:${port}`,
        'management.tcp.ip = 127.0.0.1',
        `management.tcp.port = ${managementPort}`,
        `collect_statistics_interval = ${STATS_INTERVAL_MS}`,
        'cluster_formation.peer_discovery_backend = classic_config',
        ...[1, 2, 3].map((i) => `cluster_formation.classic_config.nodes.${i} = ${nodeName(i)}`),
        '',
      ].join('\n'),
    );
    chownToRabbit(base);
    const env = {
      HOME: home,
      RABBITMQ_NODENAME: name,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: path.join(base, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(base, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(base, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: path.join(base, 'rabbitmq.conf'),
      RABBITMQ_PID_FILE: path.join(base, 'pid'),
    };
    envs.set(index, env);
    pidFiles.set(index, env.RABBITMQ_PID_FILE);
    nodes.push({
      index,
      name,
      port,
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      managementUrl: `http://guest:guest@127.0.0.1:${managementPort}`,
      label: `127.0.0.1:${port}`,
    });
  }

  const tool = (node: RabbitNode, name: string, args: string[]) => {
    const env = envs.get(node.index)!;
    const file = path.join(SBIN, name);
    if (!asRoot) return run(file, args, { env: { ...process.env, ...env }, timeout: 90_000 });
    const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    return run('runuser', ['-u', 'rabbitmq', '--', 'env', ...assignments, file, ...args], { timeout: 90_000, cwd: '/' });
  };
  const rabbitmqctl = async (node: RabbitNode, ...args: string[]) => (await tool(node, 'rabbitmqctl', ['-n', node.name, ...args])).stdout;
  const start = async (node: RabbitNode) => {
    await tool(node, 'rabbitmq-server', ['-detached']);
    // The AMQP listener opens last in the boot.
    await waitFor(`${node.name} to accept connections`, () => accepts(node.port), 90_000);
  };
  /** The nodes `node` sees running in its cluster, from its management API. */
  const runningSeenBy = async (node: RabbitNode): Promise<string[]> => {
    const u = new URL(node.managementUrl);
    try {
      const res = await fetch(`${u.protocol}//${u.host}/api/nodes?columns=name,running`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
        signal: AbortSignal.timeout(3000),
      });
      if (!res.ok) return [];
      return ((await res.json()) as { name: string; running: boolean }[]).filter((n) => n.running).map((n) => n.name);
    } catch {
      return [];
    }
  };

  const pidOf = (node: RabbitNode): number | undefined => {
    try {
      return Number(fs.readFileSync(pidFiles.get(node.index)!, 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const killSync = (node: RabbitNode) => {
    const pid = pidOf(node);
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    fs.rmSync(pidFiles.get(node.index)!, { force: true });
  };
  // A VM killed a moment ago may still be writing its files: retry until the folder empties.
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  const stopSync = () => {
    for (const node of nodes) killSync(node);
    removeDir();
  };
  // A run that dies before stop() must not leave nodes behind.
  process.once('exit', stopSync);
  const stop = async () => {
    process.removeListener('exit', stopSync);
    for (const node of nodes) killSync(node);
    await sleep(300);
    removeDir();
  };

  try {
    await Promise.all(nodes.map(start));
    const [first, ...others] = nodes;
    for (const node of others) {
      if ((await runningSeenBy(first)).includes(node.name)) continue;
      await rabbitmqctl(node, 'stop_app');
      await rabbitmqctl(node, 'join_cluster', first.name);
      await rabbitmqctl(node, 'start_app');
    }
    await waitFor('the three nodes to run as one cluster', async () => (await runningSeenBy(first)).length === 3, 60_000);
  } catch (err) {
    const logs = nodes.map((n) => path.join(dir, `node${n.index}`, 'log', `${n.name}.log`)).filter((f) => fs.existsSync(f));
    const tail = logs.map((f) => `--- ${path.basename(f)}\n${fs.readFileSync(f, 'utf8').slice(-2000)}`).join('\n');
    await stop();
    throw new Error(`could not start the RabbitMQ cluster: ${(err as Error).message}\n${tail}`, { cause: err });
  }

  return {
    nodes,
    rabbitmqctl,
    stop,
    kill(node) {
      const pid = pidOf(node);
      if (pid === undefined) throw new Error(`node ${node.name} has no pid file`);
      process.kill(pid, 'SIGKILL');
      fs.rmSync(pidFiles.get(node.index)!, { force: true });
    },
    restart: start,
  };
}
