/**
 * Child processes of the benchmark: the product's roles (src/app/main.ts, one role set per child), the
 * embedded app (bench/lib/embedded-app.ts, one process that answers SQL over IPC) and the baselines.
 *
 * A child runs the sources through tsx's loader, or (`compiled`) the build in dist/ as `npm start` does: the bench's
 * services-mode roles run the build, so their memory and CPU are the product's, not the loader's. Its stdout/stderr go to a log
 * file (the product logs JSON lines); readiness is the banner main.ts prints once every role is up.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where child logs go; the smoke test sets BENCH_LOG_DIR to a temporary folder so `npm test` leaves none here. */
export const logDir = (): string => process.env.BENCH_LOG_DIR ?? path.join(ROOT, 'bench', 'results', 'logs');

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Lines of the banner, or what the child reported when ready. */
  readonly ready: Promise<string>;
  /** SIGTERM (the product drains), then SIGKILL after `graceMs`. Resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
  /** Everything the child wrote to stdout so far (the first 64 kB). */
  stdout(): string;
}

export interface SpawnOptions {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Written with `--cpu-prof` into this folder. */
  cpuProfDir?: string;
  /** The text on stdout that says the child is ready (default: main.ts's banner). */
  readyText?: string;
  /** Give up waiting for readiness after this long. */
  readyTimeoutMs?: number;
  ipc?: boolean;
  args?: string[];
  /** The script is compiled JavaScript (dist/, as `npm start` runs it): no tsx loader in the child. */
  compiled?: boolean;
}

function execArgv(opts: SpawnOptions): string[] {
  const argv = opts.compiled ? [] : ['--import', 'tsx'];
  // One folder per child, default file names: tsx's loader runs on a thread of its own, and every thread
  // writes its own profile (a fixed --cpu-prof-name would let the loader's overwrite the main thread's).
  if (opts.cpuProfDir) argv.push('--cpu-prof', `--cpu-prof-dir=${path.join(opts.cpuProfDir, opts.name)}`);
  return argv;
}

export function spawnChild(opts: SpawnOptions): Child {
  const dir = logDir();
  fs.mkdirSync(dir, { recursive: true });
  const log = fs.createWriteStream(path.join(dir, `${opts.name}.log`), { flags: 'a' });
  // The product's own env only: the bench's settings never leak into a child by accident.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...opts.env };
  const script = path.join(ROOT, opts.script);
  const proc: ChildProcess = opts.ipc
    ? fork(script, opts.args ?? [], { cwd: ROOT, env, execArgv: execArgv(opts), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
    : spawn(process.execPath, [...execArgv(opts), script, ...(opts.args ?? [])], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });

  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const readyText = opts.readyText ?? 'seckill is running';
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${opts.name} not ready after ${opts.readyTimeoutMs ?? 60_000} ms; see ${dir}/${opts.name}.log`)), opts.readyTimeoutMs ?? 60_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (out.length < 64_000) out += chunk.toString('utf8');
      const at = out.indexOf(readyText);
      // The banner ends with an empty line: wait for the whole of it.
      if (at >= 0 && (readyText !== 'seckill is running' || /\n\s*\n/.test(out.slice(at)))) {
        clearTimeout(timer);
        resolve(out.slice(at));
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited (${code}) before it was ready; see ${dir}/${opts.name}.log`));
    });
  });
  ready.catch(() => undefined);
  void exited.then(() => log.end());

  return {
    name: opts.name,
    proc,
    ready,
    exited,
    stdout: () => out,
    async stop(graceMs = 20_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `http://127.0.0.1:1234` and `ws://127.0.0.1:5678` from main.ts's banner. */
export function urlsFromBanner(banner: string): { httpUrl?: string; wsUrl?: string } {
  const http = /api:\s+(http:\/\/\S+?)\/api\/seckill\/goods/.exec(banner)?.[1];
  const ws = /results:\s+(ws:\/\/\S+?)\/\{uuid\}/.exec(banner)?.[1];
  return { ...(http ? { httpUrl: http } : {}), ...(ws ? { wsUrl: ws } : {}) };
}
