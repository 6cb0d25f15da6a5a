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
const SENDS_PER_TURN = 100;

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
  /** How often a socket still waiting asks the database again (covers a broadcast this process missed). */
  recheckMs?: number;
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

/** `/{uuid}?token=…` → its parts; null for anything else (bad percent-encoding included: never a throw). */
export function parseTarget(rawUrl: string | undefined): { uuid: string; token: string } | null {
  let url: URL;
  let uuid: string;
  try {
    url = new URL(rawUrl ?? '/', 'ws://push');
    uuid = decodeURIComponent(url.pathname.slice(1));
  } catch {
    return null;
  }
  if (!UUID.test(uuid)) return null;
  return { uuid, token: url.searchParams.get('token') ?? '' };
}

export async function startResultPushServer(deps: ResultPushDeps, opts: ResultPushOptions): Promise<ResultPushServer> {
  const keepMs = opts.keepMs ?? 60_000;
  const listeners = new Map<string, Set<Listener>>();
  const recent = new Map<string, { result: SeckillResult; at: number }>();
  const alive = new WeakMap<WebSocket, boolean>();
  /** uuid → when the database was last asked for it on behalf of the sockets waiting for it. */
  const checkedAt = new Map<string, number>();
  const recheckMs = opts.recheckMs ?? 5_000;

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

  // A broker delivers results in bursts (a worker batch is hundreds at once). Each is recorded at once, so a
  // socket connecting now finds it, but the sends go out a slice per event-loop turn: thousands of frames in
  // one turn would hold up handshakes, heartbeats and everything else this process does.
  const outbox: SeckillResult[] = [];
  let draining = false;
  function drain(): void {
    for (const result of outbox.splice(0, SENDS_PER_TURN)) {
      for (const listener of listeners.get(result.uuid) ?? []) deliver(listener, result);
    }
    if (outbox.length > 0) setImmediate(drain);
    else draining = false;
  }

  function onResult(result: SeckillResult): void {
    recent.set(result.uuid, { result, at: deps.clock.now().getTime() });
    if (!listeners.has(result.uuid)) return;
    outbox.push(result);
    if (!draining) {
      draining = true;
      setImmediate(drain);
    }
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

  const subscription: Subscription = await deps.bus.subscribeResults((results) => {
    for (const result of results) onResult(result);
  });

  const wss = new WebSocketServer({ host: opts.host, port: opts.port, maxPayload: 1024, clientTracking: true });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });

  // A handler that throws here would take the whole process down (in embedded mode: api and worker too).
  wss.on('error', (err) => deps.logger.error({ err }, 'result push server error'));
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.on('error', () => undefined);
    try {
      onConnection(socket, request);
    } catch (err) {
      deps.logger.warn({ err }, 'result socket refused');
      socket.close(CLOSE.BAD_REQUEST, 'bad request');
    }
  });

  function onConnection(socket: WebSocket, request: IncomingMessage): void {
    const target = parseTarget(request.url);
    if (!target) return socket.close(CLOSE.BAD_REQUEST, 'the path must be /{uuid}');
    const { uuid, token } = target;
    const claims = deps.signer.verify(token, deps.clock.now());
    if (!claims) return socket.close(CLOSE.UNAUTHORIZED, 'log in first');

    const listener: Listener = { socket, userId: claims.userId, done: false };
    let set = listeners.get(uuid);
    if (!set) listeners.set(uuid, (set = new Set()));
    set.add(listener);
    deps.metrics.wsSockets.inc();
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
    socket.on('close', () => {
      deps.metrics.wsSockets.dec();
      set.delete(listener);
      if (set.size === 0 && listeners.get(uuid) === set) {
        listeners.delete(uuid);
        checkedAt.delete(uuid);
      }
    });

    // Registered first, then look back: a result landing in between is delivered once either way.
    const kept = recent.get(uuid);
    if (kept) return deliver(listener, kept.result);
    checkedAt.set(uuid, deps.clock.now().getTime());
    deps.store.getResult(uuid).then(
      (stored) => stored && deliver(listener, stored),
      (err) => deps.logger.warn({ err, uuid }, 'could not read a stored result; waiting for the push'),
    );
  }

  // A result published while this process's subscription was reconnecting never reaches it, but the
  // worker stores every result before publishing it: sockets still waiting ask the database again, a
  // bounded number of uuids per round so that thousands of waiting sockets cannot flood it.
  let sweeping = false;
  const recheck = setInterval(async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const now = deps.clock.now().getTime();
      const due: string[] = [];
      for (const uuid of listeners.keys()) {
        if (now - (checkedAt.get(uuid) ?? 0) >= recheckMs) due.push(uuid);
        if (due.length >= 200) break;
      }
      for (const uuid of due) {
        if (!listeners.has(uuid)) continue;
        checkedAt.set(uuid, now);
        const stored = await deps.store.getResult(uuid).catch(() => null);
        if (stored) for (const listener of listeners.get(uuid) ?? []) deliver(listener, stored);
      }
    } finally {
      sweeping = false;
    }
  }, recheckMs);
  recheck.unref();

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
      clearInterval(recheck);
      await subscription.close();
      for (const socket of wss.clients) socket.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
