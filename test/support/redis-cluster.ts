/**
 * A private Redis Cluster on loopback for one test file: `masters` redis-servers (and `replicasPerMaster`
 * replicas of each) on free ports chosen now, in a temp folder, joined by `redis-cli --cluster create`.
 * `stop()` kills the servers and removes the folder; the servers are also killed if the test process
 * exits without calling it (a failed or interrupted run).
 *
 * Without redis-server on the PATH the caller skips with a message; under CI=true that is an error instead.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RedisClusterNode {
  host: string;
  port: number;
}

export interface TestRedisCluster {
  /** Every node, masters first as created (`redis-cli` assigns the replicas). */
  nodes: RedisClusterNode[];
  /** `host:port,…` of every node, as REDIS_CLUSTER_NODES takes it. */
  nodesSetting: string;
  /** The command counts of one node (`INFO commandstats`): command name → calls. */
  commandCalls(node: RedisClusterNode): Promise<Map<string, number>>;
  /** The role of each node now: host:port → 'master' | 'slave'. */
  roles(): Promise<Map<string, 'master' | 'slave'>>;
  /** Freeze a node (SIGSTOP: connected, but it answers nothing) until the returned function thaws it. */
  freeze(node: RedisClusterNode): () => void;
  /** kill -9 a node, as a host dying would: its replica takes over its slots after the node timeout (5 s). */
  kill(node: RedisClusterNode): void;
  /** The master serving the slot of a key's hash tag now (`CLUSTER KEYSLOT`, `CLUSTER SHARDS` of a live node). */
  masterOf(hashTag: string, askNode: RedisClusterNode): Promise<RedisClusterNode>;
  stop(): Promise<void>;
}

/** True when redis-server and redis-cli can be run; false (with a message) otherwise; throws under CI. */
export function redisClusterAvailable(): boolean {
  const missing = ['redis-server', 'redis-cli'].filter((bin) => spawnSync(bin, ['--version']).status !== 0);
  if (missing.length === 0) return true;
  const message = `skipping the Redis Cluster tests: ${missing.join(' and ')} not found on the PATH`;
  if (process.env.CI === 'true') throw new Error(`${message} — CI never skips them`);
  console.warn(message);
  return false;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) {
      taken.add(port).add(port + 10_000);
      return port;
    }
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout;
}

async function until(what: string, check: () => Promise<boolean>, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`Redis Cluster: ${what} did not happen`);
}

export async function startRedisCluster(opts: { masters?: number; replicasPerMaster?: number } = {}): Promise<TestRedisCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seckill-redis-cluster-'));
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // A run that dies before stop() must not leave servers behind.
  const onExit = () => {
    killAll();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const taken = new Set<number>();
    const nodes: RedisClusterNode[] = [];
    for (let i = 0; i < masters * (1 + replicas); i++) nodes.push({ host: '127.0.0.1', port: await freeClusterPort(taken) });
    for (const { port } of nodes) {
      const nodeDir = path.join(dir, String(port));
      fs.mkdirSync(nodeDir);
      const child = spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
          '--cluster-config-file', path.join(nodeDir, 'nodes.conf'), '--dir', nodeDir,
          '--save', '', '--appendonly', 'no', '--cluster-node-timeout', '5000', '--repl-ping-replica-period', '1', '--logfile', path.join(nodeDir, 'redis.log'),
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
    }
    for (const { port } of nodes) await until(`node ${port} answering`, async () => (await cli(port, 'ping')).trim() === 'PONG');
    await run('redis-cli', [
      '--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`),
      '--cluster-replicas', String(replicas), '--cluster-yes',
    ]);
    // Every node must agree that the cluster is up (and every replica must be in sync) before clients come.
    for (const { port } of nodes) await until(`node ${port} cluster_state:ok`, async () => (await cli(port, 'cluster', 'info')).includes('cluster_state:ok'));
    const roles = async () => {
      const out = new Map<string, 'master' | 'slave'>();
      for (const n of nodes) {
        const info = await cli(n.port, 'info', 'replication');
        out.set(`${n.host}:${n.port}`, info.includes('role:master') ? 'master' : 'slave');
      }
      return out;
    };
    if (replicas > 0) {
      await until('replicas in sync', async () => {
        for (const n of nodes) {
          const info = await cli(n.port, 'info', 'replication');
          if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
        }
        if ([...(await roles()).values()].filter((r) => r === 'slave').length !== masters * replicas) return false;
        // CLUSTER SLOTS, which clients read, lists a replica only once every node has heard of its
        // replication offset (0 on an empty master until its first replication ping: hence the 1 s period).
        for (const n of nodes) {
          const ids = (await cli(n.port, 'cluster', 'slots')).match(/^[0-9a-f]{40}$/gm) ?? [];
          if (ids.length !== nodes.length) return false;
        }
        return true;
      });
    }
    return {
      nodes,
      nodesSetting: nodes.map((n) => `${n.host}:${n.port}`).join(','),
      roles,
      freeze(node) {
        const child = children[nodes.indexOf(node)]!;
        child.kill('SIGSTOP');
        return () => child.kill('SIGCONT');
      },
      kill(node) {
        children[nodes.indexOf(node)]!.kill('SIGKILL');
      },
      async masterOf(hashTag, askNode) {
        const slot = Number((await cli(askNode.port, 'cluster', 'keyslot', hashTag)).trim());
        // "<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges…>"
        for (const line of (await cli(askNode.port, 'cluster', 'nodes')).split('\n')) {
          const f = line.trim().split(' ');
          if (f.length < 9 || !f[2]!.includes('master') || f[2]!.includes('fail')) continue;
          const owns = f.slice(8).some((range) => {
            const [a, b] = range.split('-').map(Number);
            return slot >= a! && slot <= (b ?? a!);
          });
          if (!owns) continue;
          const port = Number(f[1]!.split('@')[0]!.split(':').at(-1));
          const node = nodes.find((n) => n.port === port);
          if (node) return node;
        }
        throw new Error(`no live master serves slot ${slot}`);
      },
      async commandCalls(node) {
        const calls = new Map<string, number>();
        for (const line of (await cli(node.port, 'info', 'commandstats')).split('\n')) {
          const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
          if (m) calls.set(m[1]!, Number(m[2]));
        }
        return calls;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
