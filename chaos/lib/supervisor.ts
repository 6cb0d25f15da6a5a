/**
 * The roles of a services-mode deployment as separate processes, each restarted when it exits (as
 * systemd or Kubernetes would), with its output kept in a log file per process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { inHost } from './hosts.ts';

export interface RoleSpec {
  /** e.g. api-1 */
  name: string;
  role: 'api' | 'worker' | 'ws';
  env: Record<string, string>;
  /** The network namespace of its simulated host (--hosts); the process runs inside it. */
  netns?: string;
}

export interface RoleProcess {
  readonly spec: RoleSpec;
  readonly pid: number | undefined;
  readonly starts: number;
  /** Whether the process printed its banner since it was last started. */
  readonly ready: boolean;
}

export interface Supervisor {
  readonly processes: readonly RoleProcess[];
  /** kill -9 one process; the supervisor starts it again. */
  kill(name: string): boolean;
  /** Resolves once every process has printed its banner (started and serving). */
  allReady(timeoutMs: number): Promise<void>;
  /** SIGTERM every process (graceful drain), SIGKILL after `graceMs`; no restarts afterwards. */
  stop(graceMs?: number): Promise<void>;
}

const RESTART_DELAY_MS = 300;

export function supervise(opts: { root: string; logDir: string; specs: RoleSpec[]; onEvent?: (line: string) => void }): Supervisor {
  let stopping = false;
  const entries = opts.specs.map((spec) => {
    const log: WriteStream = createWriteStream(path.join(opts.logDir, `${spec.name}.log`), { flags: 'a' });
    const entry = { spec, child: undefined as ChildProcess | undefined, starts: 0, ready: false, log, exited: Promise.resolve() };
    return entry;
  });

  const start = (entry: (typeof entries)[number]) => {
    entry.starts += 1;
    entry.ready = false;
    // `ip netns exec` execs the program after entering the host, so the child's pid is the role's own.
    const [file, args] = inHost(entry.spec.netns ? { ns: entry.spec.netns } : undefined, process.execPath, ['--import', 'tsx', 'src/app/main.ts']);
    const child = spawn(file, args, {
      cwd: opts.root,
      env: { ...process.env, ...entry.spec.env, SECKILL_ROLES: entry.spec.role, LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    entry.child = child;
    let banner = '';
    child.stdout.on('data', (chunk: Buffer) => {
      entry.log.write(chunk);
      if (!entry.ready) {
        banner = (banner + chunk.toString('utf8')).slice(-4096);
        if (banner.includes('seckill is running')) entry.ready = true;
      }
    });
    child.stderr.on('data', (chunk: Buffer) => entry.log.write(chunk));
    entry.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        entry.log.write(`\n--- supervisor: ${entry.spec.name} exited (code ${code}, signal ${signal})\n`);
        entry.child = undefined;
        if (!stopping) {
          opts.onEvent?.(`${entry.spec.name} exited (${signal ?? `code ${code}`}); restarting`);
          setTimeout(() => {
            if (!stopping) start(entry);
          }, RESTART_DELAY_MS);
        }
        resolve();
      });
    });
  };
  for (const entry of entries) start(entry);

  return {
    get processes() {
      return entries.map((e) => ({ spec: e.spec, pid: e.child?.pid, starts: e.starts, ready: e.ready }));
    },
    kill(name) {
      const entry = entries.find((e) => e.spec.name === name);
      if (!entry?.child) return false;
      return entry.child.kill('SIGKILL');
    },
    async allReady(timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (!entries.every((e) => e.ready)) {
        if (Date.now() > until) {
          throw new Error(`not started within ${timeoutMs / 1000} s: ${entries.filter((e) => !e.ready).map((e) => e.spec.name).join(', ')} (see ${opts.logDir})`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop(graceMs = 15_000) {
      stopping = true;
      for (const e of entries) e.child?.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const e of entries) e.child?.kill('SIGKILL');
      }, graceMs);
      await Promise.all(entries.map((e) => e.exited));
      clearTimeout(timer);
      await Promise.all(entries.map((e) => new Promise((r) => e.log.end(r))));
    },
  };
}
