/**
 * Result sockets for a sample of buyers, opened before they press the button (docs/api.md allows it, so no
 * result can be missed). Records every frame with its arrival time.
 */
import WebSocket from 'ws';
import type { Buyer } from './load.ts';
import { epochMs } from './load.ts';

export interface Frame {
  at: number;
  uuid: string;
  status: string;
}

export interface SocketSample {
  readonly indexes: readonly number[];
  /** Frames per sampled buyer index. */
  readonly frames: Map<number, Frame[]>;
  /** Resolves once every index in `expected` has a frame (or rejects after timeoutMs). */
  waitFor(expected: readonly number[], timeoutMs: number): Promise<void>;
  close(): void;
}

export async function openSockets(
  wsUrl: string,
  buyers: readonly Buyer[],
  indexes: readonly number[],
  uuidOf: (i: number) => string,
): Promise<SocketSample> {
  const frames = new Map<number, Frame[]>();
  const sockets: WebSocket[] = [];
  let onFrame: () => void = () => undefined;

  const open = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const uuid = uuidOf(i);
      const socket = new WebSocket(`${wsUrl}/${uuid}?token=${encodeURIComponent(buyers[i]!.token)}`);
      sockets.push(socket);
      frames.set(i, []);
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.on('message', (data) => {
        const frame = JSON.parse((data as Buffer).toString('utf8')) as { uuid: string; status: string };
        frames.get(i)!.push({ at: epochMs(), uuid: frame.uuid, status: frame.status });
        onFrame();
      });
    });
  // A few hundred handshakes at a time: the push server is a process of the system under test.
  for (let k = 0; k < indexes.length; k += 200) await Promise.all(indexes.slice(k, k + 200).map(open));

  return {
    indexes,
    frames,
    waitFor(expected, timeoutMs) {
      const done = () => expected.every((i) => (frames.get(i)?.length ?? 0) > 0);
      if (done()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const missing = expected.filter((i) => (frames.get(i)?.length ?? 0) === 0);
          reject(new Error(`${missing.length} sampled results not pushed after ${timeoutMs} ms (e.g. buyer ${missing[0]})`));
        }, timeoutMs);
        onFrame = () => {
          if (!done()) return;
          clearTimeout(timer);
          resolve();
        };
      });
    },
    close() {
      for (const s of sockets) s.terminate();
    },
  };
}
