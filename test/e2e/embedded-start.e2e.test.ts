/** What the embedded default start leaves on disk and tells its operator, and what `npm start` runs. */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, bootTestApp } from '../support/app.ts';
import { ensureBuilt } from '../support/browser.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A process's descendants and their command lines (Linux /proc). */
async function descendants(pid: number): Promise<{ pid: number; cmd: string }[]> {
  const parents = new Map<number, number>();
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis.
      const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const found: { pid: number; cmd: string }[] = [];
  const walk = async (of: number) => {
    for (const [child, parent] of parents) {
      if (parent !== of) continue;
      const cmd = await fs.readFile(`/proc/${child}/cmdline`, 'utf8').then((c) => c.split('\0').join(' ').trim(), () => '');
      found.push({ pid: child, cmd });
      await walk(child);
    }
  };
  await walk(pid);
  return found;
}

/** Files under a folder, and every folder or file that group or others may read, write or enter. */
async function notPrivate(dir: string): Promise<{ files: number; loose: string[] }> {
  const found = { files: 0, loose: [] as string[] };
  const walk = async (at: string): Promise<void> => {
    if ((await fs.stat(at)).mode & 0o077) found.loose.push(at);
    for (const entry of await fs.readdir(at, { withFileTypes: true })) {
      const child = path.join(at, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) {
        found.files++;
        if ((await fs.stat(child)).mode & 0o077) found.loose.push(child);
      }
    }
  };
  await walk(dir);
  return found;
}

describe('embedded start', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
  });

  it('the data folder is private; the generated admin password is shown on the first start only, and works', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-start-'));
    dirs.push(dataDir);
    await fs.chmod(dataDir, 0o755);
    const env = { SECKILL_DATA_DIR: dataDir, SECKILL_ADMIN_PASSWORD: '' };

    // A shell's usual umask: the start must not depend on the caller's.
    process.umask(0o022);
    const first = await bootTestApp('embedded', env);
    const admin = first.admin!;
    expect(admin).toMatchObject({ source: 'generated now', password: expect.any(String), keptIn: path.join(dataDir, 'admin-password') });
    const login = await apiClient(first.httpUrl)('POST', '/api/auth/login', { body: { phone: admin.phone, password: admin.password } });
    expect(login.status).toBe(200);
    await first.destroy();

    expect((await fs.stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(dataDir, 'admin-password'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.join(dataDir, 'token-secret'))).mode & 0o777).toBe(0o600);
    // The database's own files too (PGlite writes them 0666 and leaves the rest to the umask).
    const open = await notPrivate(dataDir);
    expect(open.files).toBeGreaterThan(100);
    expect(open.loose).toEqual([]);

    const second = await bootTestApp('embedded', env);
    expect(second.admin).toEqual({ phone: admin.phone, source: 'kept', keptIn: path.join(dataDir, 'admin-password') });
    await second.destroy();
  }, 60_000);

  it('a data folder left open by an earlier version is made private at start, database files included', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-start-'));
    dirs.push(dataDir);
    const env = { SECKILL_DATA_DIR: dataDir };
    await (await bootTestApp('embedded', env)).destroy();
    // As an earlier version left it: every folder 0755, every file 0666.
    const loosen = async (dir: string): Promise<void> => {
      await fs.chmod(dir, 0o755);
      for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) await loosen(path.join(dir, entry.name));
        else await fs.chmod(path.join(dir, entry.name), 0o666);
      }
    };
    await loosen(dataDir);
    expect((await notPrivate(dataDir)).loose.length).toBeGreaterThan(100);

    const again = await bootTestApp('embedded', env);
    expect((await apiClient(again.httpUrl)('GET', '/api/health')).status).toBe(200);
    // Repaired by the start itself, not only by the stop.
    expect((await notPrivate(dataDir)).loose).toEqual([]);
    await again.destroy();
    expect((await notPrivate(dataDir)).loose).toEqual([]);
  }, 60_000);

  it('with METRICS_TOKEN set, /metrics answers only its bearer token (401 in the error shape otherwise)', async () => {
    const app = await bootTestApp('embedded', { METRICS_TOKEN: 'scrape-token-0123456789' });
    try {
      const api = apiClient(app.httpUrl);
      const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: 'Bearer scrape-token-01234567890' }];
      for (const headers of attempts) {
        const r = await api('GET', '/metrics', { headers });
        expect(r.status).toBe(401);
        expect(r.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      }
      const ok = await api('GET', '/metrics', { headers: { authorization: 'Bearer scrape-token-0123456789' } });
      expect(ok.status).toBe(200);
      expect(String(ok.body)).toContain('seckill_');
    } finally {
      await app.destroy();
    }
  }, 60_000);

  it('`npm start` runs the compiled build with plain node, builds nothing when the build is fresh, and serves the shop', async () => {
    ensureBuilt();
    const stamp = path.join(ROOT, 'dist', '.build-stamp');
    const builtAt = statSync(stamp).mtimeMs;
    expect(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start).toBe('node dist/app/main.js');

    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-npm-start-'));
    dirs.push(dataDir);
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SECKILL_DATA_DIR: dataDir, PORT: '0', WS_PORT: '0', LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
    const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => npm.once('exit', resolve));
    let out = '';
    let server: number | undefined;
    npm.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        npm.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (/seckill is running[\s\S]*\n\s*\n/.test(out)) resolve(out);
        });
        npm.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${out}`)));
      });
      const shop = /shop:\s+(http:\/\/\S+?)\/\s/.exec(banner)?.[1];
      expect(shop).toBeDefined();

      const processes = await descendants(npm.pid!);
      server = processes.find((p) => /(^|\/)node dist\/app\/main\.js$/.test(p.cmd))?.pid;
      expect(processes.map((p) => p.cmd)).toContainEqual(expect.stringMatching(/(^|\/)node dist\/app\/main\.js$/));
      expect(processes.filter((p) => p.cmd.includes('tsx'))).toEqual([]);
      expect(out).not.toContain('building the server');
      expect(statSync(stamp).mtimeMs).toBe(builtAt);

      const api = apiClient(shop!);
      const page = await fetch(shop + '/');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="app">');
      expect((await api('GET', '/api/seckill/goods')).body.items.length).toBeGreaterThan(0);
      expect((await fetch(shop + '/docs')).status).toBe(200);
    } finally {
      // The server drains and exits on SIGTERM; npm then exits with it.
      if (server) process.kill(server, 'SIGTERM');
      else npm.kill('SIGTERM');
      await exited;
    }
  }, 180_000);
});
