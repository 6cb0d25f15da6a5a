/**
 * The build: the server (tsc, tsconfig.build.json) into dist/ with the .lua and .sql files it reads at run
 * time, and the page (vite) into web/dist.
 *
 *   node scripts/build.mjs              build now
 *   node scripts/build.mjs --if-stale   build only when a build is missing or older than its sources (prestart)
 *
 * Several processes may run this at once on one checkout (roles started together): one of them builds under
 * a lock folder, the others wait for it and then find the build fresh. Each output is built into a temporary
 * folder and renamed into place, so nobody ever reads a half-written build.
 * Plain JavaScript on purpose: it runs before anything is compiled.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const at = (...parts) => path.join(ROOT, ...parts);
const LOCK = at('.build-lock');
/** Written last: the server build is complete and as new as this file. */
const STAMP = '.build-stamp';
/** A lock older than this belongs to a build that died (a build takes well under a minute). */
const STALE_LOCK_MS = 10 * 60 * 1000;

/** Every input of the build; package-lock.json too, since new dependencies may change the output. */
const SOURCES = ['src', 'web/src', 'web/public', 'web/index.html', 'web/vite.config.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
/** The files the server reads at run time beside its modules. */
const ASSET = /\.(lua|sql)$/;

function newestMtime(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of fs.readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, name)));
  return newest;
}

function mtimeOr0(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Why a build is needed, or null when dist/ and web/dist are newer than every source. */
export function staleness() {
  const built = Math.min(mtimeOr0(at('dist', STAMP)), mtimeOr0(at('web', 'dist', 'index.html')));
  if (built === 0) return 'no build yet';
  const newest = Math.max(...SOURCES.map((s) => newestMtime(at(s))));
  return newest > built ? 'sources changed since the last build' : null;
}

function run(bin, args) {
  const file = at('node_modules', '.bin', bin);
  if (!fs.existsSync(file)) throw new Error(`${bin} is not installed: run \`npm install\` (the build needs the dev dependencies)`);
  const r = spawnSync(file, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

function copyAssets(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) copyAssets(src, path.join(to, entry.name));
    else if (ASSET.test(entry.name)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, path.join(to, entry.name));
    }
  }
}

/** Put a finished folder in place of `target` (rename is atomic; the old one goes after). */
function swapIn(tmp, target) {
  const old = `${target}.old-${process.pid}`;
  if (fs.existsSync(target)) fs.renameSync(target, old);
  fs.renameSync(tmp, target);
  fs.rmSync(old, { recursive: true, force: true });
}

function buildNow() {
  const suffix = `.tmp-${process.pid}`;
  const serverTmp = at(`dist${suffix}`);
  const webTmp = at('web', `dist${suffix}`);
  // The build counts as of its start: a source saved while it runs makes the next start build again.
  const startedAt = new Date();
  try {
    run('tsc', ['-p', 'tsconfig.build.json', '--outDir', serverTmp]);
    copyAssets(at('src'), serverTmp);
    fs.writeFileSync(path.join(serverTmp, STAMP), `${startedAt.toISOString()}\n`);
    fs.utimesSync(path.join(serverTmp, STAMP), startedAt, startedAt);
    run('vite', ['build', 'web', '--outDir', webTmp, '--emptyOutDir', '--logLevel', 'warn']);
    swapIn(serverTmp, at('dist'));
    swapIn(webTmp, at('web', 'dist'));
  } finally {
    fs.rmSync(serverTmp, { recursive: true, force: true });
    fs.rmSync(webTmp, { recursive: true, force: true });
  }
}

function tryLock() {
  try {
    fs.mkdirSync(LOCK);
    fs.writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
    return true;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    if (Date.now() - mtimeOr0(LOCK) > STALE_LOCK_MS || !holderAlive()) fs.rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}

function holderAlive() {
  let pid;
  try {
    pid = Number(fs.readFileSync(path.join(LOCK, 'pid'), 'utf8'));
  } catch {
    return true; // just made, pid not written yet
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Build (or, with ifStale, build only when needed), one builder at a time per checkout. */
export function build({ ifStale = false } = {}) {
  for (;;) {
    if (ifStale && !staleness()) return false;
    if (tryLock()) break;
    sleep(200);
  }
  try {
    const why = staleness();
    if (ifStale && !why) return false; // another process built it while we waited
    process.stderr.write(`building the server into dist/ and the page into web/dist${why && ifStale ? ` (${why})` : ''} …\n`);
    buildNow();
    return true;
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    build({ ifStale: process.argv.includes('--if-stale') });
  } catch (err) {
    process.stderr.write(`build failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
