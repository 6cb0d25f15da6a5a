/**
 * Where this process's log lines go (stdout). Writing a line never blocks the process and never throws,
 * whatever the log's reader does: a slow reader costs memory up to a bound, then lines (counted); a reader
 * that is gone costs the lines only. Shutdown never waits on the log.
 *
 * - Pipe (`| tee`, a container runtime): fs.writeSync on a non-blocking descriptor of our own,
 *   `/proc/self/fd/N` opened again (a new open file description: the inherited one, shared with the
 *   parent, keeps its flags). A line is in the kernel before write() returns while the reader keeps up, so
 *   a kill -9 right after loses nothing. Pipe full: the rest waits in a bounded queue, retried on a timer.
 * - Socket (a Node parent's 'pipe' is a socketpair; journald): a net.Socket on the descriptor
 *   (process.stdout itself for fd 1: Node may make it anyway, and one descriptor takes one handle). libuv
 *   writes at once while the socket takes it; what it holds back is bounded and is lost at exit.
 * - File or terminal: the descriptor itself (a terminal frozen by its user may block, as for any program).
 * Reader gone (EPIPE) or any other error: the sink stops writing for good, without a retry.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Writable } from 'node:stream';

export interface LogSink {
  /** Writes text (whole lines); never blocks, never throws. */
  write(text: string): void;
  /** For exit: one non-blocking attempt to write what is queued; never waits or retries. */
  flushSync(): void;
  /** True once the reader is gone or writing failed: every line is dropped from then on. */
  readonly broken: boolean;
  /** Bytes held in memory for a slow reader. */
  readonly queuedBytes: number;
  /** Lines dropped so far (queue full or sink broken). */
  readonly dropped: number;
}

export interface LogSinkOptions {
  /** Bound of the bytes held for a slow reader; past it, new lines are dropped. Default 4 MiB. */
  maxQueueBytes?: number;
  /** How often held bytes are tried again. Default 50 ms. */
  retryMs?: number;
  /** The line that says, once a slow reader has caught up, how many lines were dropped. */
  notice?: (dropped: number) => string;
}

/** The default notice: a pino-shaped JSON line at warn level. */
export const droppedNotice = (dropped: number) =>
  `${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, msg: 'log lines dropped: the log reader was too slow', dropped })}\n`;

const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code;

export function openLogSink(fd: number, options: LogSinkOptions = {}): LogSink {
  const settings = { maxQueueBytes: options.maxQueueBytes ?? 4 * 1024 * 1024, retryMs: options.retryMs ?? 50, notice: options.notice ?? droppedNotice };
  let stat: fs.Stats;
  try {
    stat = fs.fstatSync(fd);
  } catch {
    return descriptorSink(-1, settings);
  }
  if (stat.isSocket()) return socketSink(fd, settings);
  if (!stat.isFIFO()) return descriptorSink(fd, settings);
  try {
    return descriptorSink(fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK), settings);
  } catch (err) {
    // ENXIO: nobody reads the pipe any more. Without /proc (not Linux) the inherited descriptor is all there is.
    return descriptorSink(errorCode(err) === 'ENXIO' ? -1 : fd, settings);
  }
}

/** fd < 0: broken from the start. */
function descriptorSink(fd: number, { maxQueueBytes, retryMs, notice }: Required<LogSinkOptions>): LogSink {
  const queue: Buffer[] = []; // a line each; the head may be the rest of a line the kernel took in part
  let queuedBytes = 0;
  let dropped = 0;
  let unreported = 0;
  let broken = fd < 0;
  let timer: NodeJS.Timeout | undefined;

  const hold = (line: Buffer) => {
    queue.push(line);
    queuedBytes += line.length;
  };
  /** Writes from the head of the queue until the kernel takes no more; false if something is left to retry. */
  const pump = (): boolean => {
    while (queue.length > 0) {
      const head = queue[0]!;
      let n: number;
      try {
        n = fs.writeSync(fd, head);
      } catch (err) {
        if (errorCode(err) === 'EAGAIN') return false;
        broken = true;
        dropped += queue.length;
        queue.length = 0;
        queuedBytes = 0;
        return true;
      }
      queuedBytes -= n;
      if (n < head.length) {
        queue[0] = head.subarray(n);
        return false;
      }
      queue.shift();
      if (queue.length === 0 && unreported > 0) {
        hold(Buffer.from(notice(unreported)));
        unreported = 0;
      }
    }
    return true;
  };
  const pumpLater = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      if (!pump()) pumpLater();
    }, retryMs).unref();
  };

  return {
    write(text) {
      const line = Buffer.from(text);
      if (broken || (queue.length > 0 && queuedBytes + line.length > maxQueueBytes)) {
        dropped++;
        if (!broken) unreported++;
        return;
      }
      hold(line);
      // Nothing was queued: straight to the kernel, so the line is there before this returns.
      if (queue.length === 1 && !pump()) pumpLater();
    },
    flushSync() {
      pump();
    },
    get broken() { return broken; },
    get queuedBytes() { return queuedBytes; },
    get dropped() { return dropped; },
  };
}

function socketSink(fd: number, { maxQueueBytes, notice }: Required<LogSinkOptions>): LogSink {
  const stream: Writable = fd === 1 ? process.stdout : fd === 2 ? process.stderr : new net.Socket({ fd, readable: false, writable: true }).unref();
  let dropped = 0;
  let unreported = 0;
  let broken = false;
  stream.on('error', () => (broken = true));
  stream.on('drain', () => {
    if (unreported === 0 || broken) return;
    stream.write(notice(unreported));
    unreported = 0;
  });
  return {
    write(text) {
      broken ||= stream.destroyed;
      if (broken || stream.writableLength + Buffer.byteLength(text) > maxQueueBytes) {
        dropped++;
        if (!broken) unreported++;
        return;
      }
      try {
        stream.write(text);
      } catch {
        broken = true;
        dropped++;
      }
    },
    // What libuv holds back cannot be written synchronously; it is bounded and lost at exit.
    flushSync() {},
    get broken() { return broken; },
    get queuedBytes() { return stream.writableLength; },
    get dropped() { return dropped; },
  };
}
