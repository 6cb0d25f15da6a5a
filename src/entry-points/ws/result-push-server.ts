/**
 * WebSocket result push: ws://host:WS_PORT/{uuid}?token=…
 *
 * Unlike a local socket map that retries three times and then drops the result, no result is lost here:
 * every push process receives every result (its own subscription to the result broadcast), keeps it for
 * `keepMs` to replay to a socket that connects late, and falls back to the stored result in the database.
 * A result is only ever sent to a socket of the buyer who made the request (4403 otherwise).
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TokenSigner } from '../../core/credentials.ts';
import type { Clock, OrderBus, OrderStore, SeckillResult, Subscription } from '../../core/ports.ts';
import type { Metrics } from '../metrics.ts';

export const CLOSE = { DONE: 1000, BAD_REQUEST: 4400, UNAUTHORIZED: 4401, FORBIDDEN: 4403 } as const;

const UUID = /^[A-Za-z0-9_-]{8,64}$/;

export interface ResultPushDeps {
  signer: TokenSigner;
  clock: Clock;
  bus: Pick<OrderBus, 'subscribeResults'>;
  store: Pick<OrderStore, 'getResult'>;
  logger: Logger;
  metrics: Metrics;
}

export interface ResultPushOptions {
  host: string;
  port: number;
  /** How long a result waits for its socket. */
  keepMs?: number;
  heartbeatMs?: number;
}

export interface ResultPushServer {
  port: number;
  /** Sockets held right now. */
  socketCount(): number;
  close(): Promise<void>;
}

interface Listener {
  socket: WebSocket;
  userId: number;
  done: boolean;
}

export const pushFrame = (r: SeckillResult) =>
  JSON.stringify({
    uuid: r.uuid,
    status: r.status,
    ...(r.orderNo ? { orderNo: r.orderNo } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    seckillGoodId: r.seckillGoodId,
  });

export async function startResultPushServer(deps: ResultPushDeps, opts: ResultPushOptions): Promise<ResultPushServer> {
  const keepMs = opts.keepMs ?? 60_000;
  const listeners = new Map<string, Set<Listener>>();
  const recent = new Map<string, { result: SeckillResult; at: number }>();
  const alive = new WeakMap<WebSocket, boolean>();

  function deliver(listener: Listener, result: SeckillResult): void {
    if (listener.done) return;
    listener.done = true;
    if (result.userId !== listener.userId) {
      listener.socket.close(CLOSE.FORBIDDEN, 'not your request');
      return;
    }
    listener.socket.send(pushFrame(result), () => listener.socket.close(CLOSE.DONE, 'result delivered'));
    deps.metrics.resultsPushed.inc();
  }

  function onResult(result: SeckillResult): void {
    recent.set(result.uuid, { result, at: deps.clock.now().getTime() });
    for (const listener of listeners.get(result.uuid) ?? []) deliver(listener, result);
  }

  // Results are kept in insertion order, so pruning stops at the first young one.
  const prune = setInterval(() => {
    const cutoff = deps.clock.now().getTime() - keepMs;
    for (const [uuid, entry] of recent) {
      if (entry.at >= cutoff) break;
      recent.delete(uuid);
    }
  }, Math.min(keepMs, 5_000));
  prune.unref();

  const subscription: Subscription = await deps.bus.subscribeResults(onResult);

  const wss = new WebSocketServer({ host: opts.host, port: opts.port, maxPayload: 1024, clientTracking: true });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const url = new URL(request.url ?? '/', 'ws://push');
    const uuid = decodeURIComponent(url.pathname.slice(1));
    if (!UUID.test(uuid)) return socket.close(CLOSE.BAD_REQUEST, 'the path must be /{uuid}');
    const claims = deps.signer.verify(url.searchParams.get('token') ?? '', deps.clock.now());
    if (!claims) return socket.close(CLOSE.UNAUTHORIZED, 'log in first');

    const listener: Listener = { socket, userId: claims.userId, done: false };
    let set = listeners.get(uuid);
    if (!set) listeners.set(uuid, (set = new Set()));
    set.add(listener);
    deps.metrics.wsSockets.inc();
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      deps.metrics.wsSockets.dec();
      set.delete(listener);
      if (set.size === 0 && listeners.get(uuid) === set) listeners.delete(uuid);
    });

    // Registered first, then look back: a result landing in between is delivered once either way.
    const kept = recent.get(uuid);
    if (kept) return deliver(listener, kept.result);
    deps.store.getResult(uuid).then(
      (stored) => stored && deliver(listener, stored),
      (err) => deps.logger.warn({ err, uuid }, 'could not read a stored result; waiting for the push'),
    );
  });

  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      if (!alive.get(socket)) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, opts.heartbeatMs ?? 30_000);
  heartbeat.unref();

  const address = wss.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    port,
    socketCount: () => wss.clients.size,
    async close() {
      clearInterval(heartbeat);
      clearInterval(prune);
      await subscription.close();
      for (const socket of wss.clients) socket.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
