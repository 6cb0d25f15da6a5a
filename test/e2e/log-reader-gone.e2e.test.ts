/**
 * The compiled server (`node dist/app/main.js`, embedded mode) whose log reader dies: stdout and stderr piped
 * to this test, which then closes its ends of them, as a supervisor that crashed would.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/browser.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('a server whose log reader is gone', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
  });

  it('still answers /api/health, and SIGTERM still stops it', async () => {
    ensureBuilt();
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-log-reader-'));
    dirs.push(dataDir);
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SECKILL_DATA_DIR: dataDir, PORT: '0', WS_PORT: '0', LOG_LEVEL: 'info', LOG_FORMAT: 'json' };
    const server = spawn(process.execPath, ['dist/app/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => server.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      let out = '';
      const banner = await new Promise<string>((resolve, reject) => {
        server.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (/seckill is running[\s\S]*\n\s*\n/.test(out)) resolve(out);
        });
        server.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
        void exited.then(({ code }) => reject(new Error(`the server exited (${code}):\n${out}`)));
      });
      const shop = /shop:\s+(http:\/\/\S+?)\/\s/.exec(banner)?.[1];
      expect(shop).toBeDefined();

      server.stdout.destroy();
      server.stderr.destroy();
      const health = await fetch(`${shop}/api/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });

      server.kill('SIGTERM');
      let deadline: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([exited, new Promise<'still running'>((resolve) => (deadline = setTimeout(() => resolve('still running'), 20_000)))]);
      clearTimeout(deadline);
      expect(outcome).toEqual({ code: 0, signal: null });
    } finally {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
      await exited;
    }
  }, 180_000);
});
