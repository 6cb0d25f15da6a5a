import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openLogSink } from './log-sink.ts';

const SINK = fileURLToPath(new URL('./log-sink.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const line = (i: number) => `${JSON.stringify({ level: 30, msg: 'order decided', i, pad: 'x'.repeat(60) })}\n`;

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const undo of cleanup.splice(0)) {
    try {
      undo();
    } catch {
      /* already closed */
    }
  }
});

/** A named pipe: its read end (opened first, non-blocking, so that opening does not wait) and its write end. */
function makePipe(): { readFd: number; writeFd: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seckill-log-sink-'));
  const file = path.join(dir, 'log');
  execFileSync('mkfifo', [file]);
  const readFd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writeFd = fs.openSync(file, fs.constants.O_WRONLY);
  cleanup.push(() => fs.closeSync(writeFd), () => fs.closeSync(readFd), () => fs.rmSync(dir, { recursive: true }));
  return { readFd, writeFd };
}

/** Reads a pipe's read end until `done` holds for what has arrived. */
function readUntil(readFd: number, done: (text: string) => boolean): Promise<string> {
  const reader = new net.Socket({ fd: readFd, readable: true, writable: false });
  cleanup.push(() => reader.destroy());
  let text = '';
  return new Promise((resolve, reject) => {
    reader.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (done(text)) resolve(text);
    });
    reader.on('error', reject);
  });
}

function readAll(stream: Readable): Promise<string> {
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return new Promise((resolve) => stream.on('end', () => resolve(text)));
}

/** A process that runs `body` with `openLogSink` imported, its stdout as given, its stderr piped. */
function child(body: string, stdout: 'pipe' | number) {
  const code = `import fs from 'node:fs';\nimport { openLogSink } from ${JSON.stringify(SINK)};\n${body}`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['pipe', stdout, 'pipe'] });
  cleanup.push(() => proc.kill('SIGKILL'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return { proc, exited, stderr: readAll(proc.stderr!) };
}

describe('log sink on a pipe', () => {
  it('a reader that stops reading: writes return at once, at most maxQueueBytes wait in memory, later lines are dropped and counted; once it reads again the kept lines arrive in order, then a line with the dropped count', async () => {
    const { readFd, writeFd } = makePipe();
    const maxQueueBytes = 64 * 1024;
    const sink = openLogSink(writeFd, { maxQueueBytes, retryMs: 5 });
    const written = 10_000; // about 1 MB: far more than the pipe and the queue hold
    for (let i = 0; i < written; i++) {
      sink.write(line(i));
      expect(sink.queuedBytes).toBeLessThanOrEqual(maxQueueBytes);
    }
    expect(sink.broken).toBe(false);
    expect(sink.dropped).toBeGreaterThan(0);
    const dropped = sink.dropped;
    const queued = sink.queuedBytes;
    sink.flushSync(); // as at exit: one try, the pipe is still full, nothing waits
    expect(sink.queuedBytes).toBe(queued);

    const text = await readUntil(readFd, (t) => t.includes('log lines dropped'));
    const entries = text.trimEnd().split('\n').map((l) => JSON.parse(l) as { i?: number; dropped?: number; level: number });
    const notice = entries.pop()!;
    expect(entries.map((e) => e.i)).toEqual(Array.from({ length: written - dropped }, (_, i) => i));
    expect(notice).toMatchObject({ level: 40, dropped });
    expect(sink.queuedBytes).toBe(0);
  });

  it('a reader that goes away: the next attempt neither throws nor retries, the sink is broken for good and flushSync returns', () => {
    const { readFd, writeFd } = makePipe();
    const sink = openLogSink(writeFd, { maxQueueBytes: 64 * 1024 });
    for (let i = 0; i < 2000; i++) sink.write(line(i));
    expect(sink.queuedBytes).toBeGreaterThan(0);
    const droppedBefore = sink.dropped;

    fs.closeSync(readFd);
    sink.flushSync();
    expect(sink.broken).toBe(true);
    expect(sink.queuedBytes).toBe(0);
    expect(sink.dropped).toBeGreaterThan(droppedBefore);
    const droppedAtBreak = sink.dropped;
    expect(() => sink.write(line(1))).not.toThrow();
    sink.flushSync();
    expect(sink.dropped).toBe(droppedAtBreak + 1);
  });

  it('a pipe nobody reads any more when the sink opens: broken from the start, writes are dropped and counted, nothing throws', () => {
    const { readFd, writeFd } = makePipe();
    fs.closeSync(readFd);
    const sink = openLogSink(writeFd);
    expect(sink.broken).toBe(true);
    expect(() => sink.write(line(0))).not.toThrow();
    sink.flushSync();
    expect(sink.dropped).toBe(1);
  });

  it('a process that writes N lines and is killed with SIGKILL right after: its reader gets all N, in order', async () => {
    const { readFd, writeFd } = makePipe();
    const n = 500;
    const writer = child(
      `const sink = openLogSink(1);
       for (let i = 0; i < ${n}; i++) sink.write('line ' + i + '\\n');
       fs.writeSync(2, 'queued ' + sink.queuedBytes + '\\n');
       process.kill(process.pid, 'SIGKILL');`,
      writeFd,
    );
    fs.closeSync(writeFd); // the child holds the only write end left: the reader ends when it dies
    const text = readUntil(readFd, (t) => t.endsWith(`line ${n - 1}\n`));
    expect(await writer.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await writer.stderr).toBe('queued 0\n');
    expect((await text).trimEnd().split('\n')).toEqual(Array.from({ length: n }, (_, i) => `line ${i}`));
  });
});

describe('log sink on a socket (a Node parent\'s piped stdout)', () => {
  it('a process that writes N lines and is killed with SIGKILL right after: its reader gets all N, in order', async () => {
    // Each write to a Unix socket costs the kernel about 1 KB of the send buffer (~200 KB) until it is read:
    // a few hundred lines in one go may wait in the process for a slow reader, and those a kill -9 loses.
    const n = 100;
    const writer = child(
      `const sink = openLogSink(1);
       for (let i = 0; i < ${n}; i++) sink.write('line ' + i + '\\n');
       fs.writeSync(2, 'queued ' + sink.queuedBytes + '\\n');
       process.kill(process.pid, 'SIGKILL');`,
      'pipe',
    );
    const text = readAll(writer.proc.stdout!);
    expect(await writer.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await writer.stderr).toBe('queued 0\n');
    expect((await text).trimEnd().split('\n')).toEqual(Array.from({ length: n }, (_, i) => `line ${i}`));
  });

  it('a reader that never reads: writes return, the held bytes stay within maxQueueBytes, later lines are counted as dropped, and the process still exits', async () => {
    const writer = child(
      `const sink = openLogSink(1, { maxQueueBytes: 256 * 1024 });
       let most = 0;
       for (let i = 0; i < 20000; i++) { sink.write('x'.repeat(99) + '\\n'); most = Math.max(most, sink.queuedBytes); }
       fs.writeSync(2, JSON.stringify({ most, dropped: sink.dropped, broken: sink.broken }));
       process.exit(0);`,
      'pipe',
    );
    writer.proc.stdout!.pause();
    expect(await writer.exited).toEqual({ code: 0, signal: null });
    const seen = JSON.parse(await writer.stderr) as { most: number; dropped: number; broken: boolean };
    expect(seen.most).toBeLessThanOrEqual(256 * 1024);
    expect(seen.dropped).toBeGreaterThan(0);
    expect(seen.broken).toBe(false);
  });

  it('a reader that goes away: writes neither throw nor block, the sink is broken and the process exits', async () => {
    const writer = child(
      `const sink = openLogSink(1);
       sink.write('ready\\n');
       process.stdin.once('data', () => {
         const spin = () => {
           sink.write('after the reader left\\n');
           if (!sink.broken) { setImmediate(spin); return; }
           fs.writeSync(2, JSON.stringify({ broken: sink.broken, dropped: sink.dropped }));
           process.exit(0);
         };
         spin();
       });`,
      'pipe',
    );
    const stdout = writer.proc.stdout!;
    await new Promise((resolve) => stdout.once('data', resolve));
    stdout.destroy();
    writer.proc.stdin!.write('go\n');
    expect(await writer.exited).toEqual({ code: 0, signal: null });
    expect(JSON.parse(await writer.stderr)).toMatchObject({ broken: true, dropped: expect.any(Number) });
  });
});
