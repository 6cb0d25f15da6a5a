/**
 * WebSocket result push: ws://host:WS_PORT/{uuid}?token=…
 *
 * Unlike a local socket map that retries three times and then drops the result, no result is lost here:
 * every push process receives every result (its own subscription to the result broadcast), keeps it for
 * `keepMs` to replay to a socket that connects late, and falls back to the stored result in the database.
 * A result is only ever sent to a socket of the buyer who made the request (4403 otherwise).
 *
 * Connecting is meant to be cheap, since a sale opens thousands of sockets in a second: a result seen on the
 * broadcast is answered from memory, and the database is asked only about uuids it has not seen, many per
 * read (stored-result-lookup.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TokenClaims, TokenSigner } from '../../core/credentials.ts';
import type { TokenVersions } from '../../core/token-versions.ts';
import type { OrderBus, Subscription } from '../../core/ports/order-bus.ts';
import type { OrderStore } from '../../core/ports/order-store.ts';
import type { Clock, Timers } from '../../core/ports/timers.ts';
import type { SeckillResult } from '../../core/model.ts';
import { isReuseFailure, pushDecision } from '../../core/results.ts';
import type { Metrics } from '../metrics.ts';
import type { PushFrameJson } from '../http/responses.ts';
import { createStoredResultLookup } from '../../core/stored-result-lookup.ts';
import { parseTarget } from './socket-target.ts';
import { connectionLimits, type ConnectionLimits } from '../connection-limits.ts';
import { closeUpgradeServer, listenForUpgrades } from './upgrade-server.ts';

export const CLOSE = { DONE: 1000, BAD_REQUEST: 4400, UNAUTHORIZED: 4401, FORBIDDEN: 4403, NO_RESULT_YET: 4408, TOO_MANY: 4429 } as const;

const SENDS_PER_TURN = 100;

export interface ResultPushDeps {
  signer: TokenSigner;
  /** When given, a token must also carry its user's current version (not logged out, password unchanged). */
  versions?: TokenVersions;
  clock: Clock;
  timers: Timers;
  bus: Pick<OrderBus, 'subscribeResults'>;
  store: Pick<OrderStore, 'getResults'>;
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
  /** How long a connect waits for others to share its database read. */
  lookupWindowMs?: number;
  /** Sockets one buyer may hold open on this process; more close 4429. Default 50. */
  maxSocketsPerUser?: number;
  /** A socket with no result after this long closes 4408 (the page then polls). Default 2 min. */
  waitMs?: number;
  /** Deadlines, header size and connection cap of the port, as the api's (default connectionLimits()). */
  connection?: ConnectionLimits;
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
  /** Epoch ms of the connect. */
  since: number;
}

export const pushFrame = (r: SeckillResult) =>
  JSON.stringify({
    uuid: r.uuid,
    status: r.status,
    ...(r.orderNo ? { orderNo: r.orderNo } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    seckillGoodId: r.seckillGoodId,
  } satisfies PushFrameJson);

const ignore = () => undefined;

export async function startResultPushServer(deps: ResultPushDeps, opts: ResultPushOptions): Promise<ResultPushServer> {
  const keepMs = opts.keepMs ?? 60_000;
  const listeners = new Map<string, Set<Listener>>();
  const recent = new Map<string, { result: SeckillResult; at: number }>();
  const alive = new WeakSet<WebSocket>();
  // One handler for every socket instead of a closure per connection.
  function markAlive(this: WebSocket): void {
    alive.add(this);
  }
  /** uuid → when the database was last asked for it on behalf of the sockets waiting for it. */
  const checkedAt = new Map<string, number>();
  const recheckMs = opts.recheckMs ?? 5_000;
  const maxSocketsPerUser = opts.maxSocketsPerUser ?? 50;
  const waitMs = opts.waitMs ?? 120_000;
  /** Sockets held per buyer: one token cannot pin down the process with thousands of waiting sockets. */
  const socketsOf = new Map<number, number>();
  const lookup = createStoredResultLookup({
    store: deps.store,
    timers: deps.timers,
    windowMs: opts.lookupWindowMs ?? 20,
    wanted: (uuid) => listeners.has(uuid),
    found: (stored) => {
      for (const listener of listeners.get(stored.uuid) ?? []) deliver(listener, stored);
    },
    // The sockets keep waiting: the push, or the next recheck, answers them.
    failed: (err, uuids) => deps.logger.warn({ err, uuids: uuids.length }, 'could not read stored results; waiting for the push'),
  });

  function deliver(listener: Listener, result: SeckillResult): void {
    if (listener.done) return;
    const decision = pushDecision(result, listener.userId);
    if (decision === 'ignore') return;
    listener.done = true;
    if (decision === 'refuse') {
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

  // Kept to one result per call, so that a bus delivering several per message needs only a loop around it.
  function onResult(result: SeckillResult): void {
    // A request that reused a uuid does not replace that uuid's own result: it only goes to sockets waiting
    // now (a late one gets 4403 from the uuid's result and reads its FAIL from the results endpoint).
    if (!isReuseFailure(result)) recent.set(result.uuid, { result, at: deps.clock.now().getTime() });
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

  const server = await listenForUpgrades({ host: opts.host, port: opts.port, limits: opts.connection ?? connectionLimits(), logger: deps.logger });
  const wss = new WebSocketServer({ server, maxPayload: 1024, clientTracking: true });

  // A handler that throws here would take the whole process down (in embedded mode: api and worker too).
  wss.on('error', (err) => deps.logger.error({ err }, 'result push server error'));
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.on('error', ignore);
    try {
      onConnection(socket, request);
    } catch (err) {
      deps.logger.warn({ err }, 'result socket refused');
      socket.close(CLOSE.BAD_REQUEST, 'bad request');
    }
  });

  function onConnection(socket: WebSocket, request: IncomingMessage): void {
    const target = parseTarget(request.url);
    if (!target) { socket.close(CLOSE.BAD_REQUEST, 'the path must be /{uuid}'); return; }
    const { uuid, token } = target;
    const now = deps.clock.now();
    const claims = deps.signer.verify(token, now);
    if (!claims) { socket.close(CLOSE.UNAUTHORIZED, 'log in first'); return; }
    if (!deps.versions) { accept(socket, uuid, claims, now); return; }
    // A result decided during this check is kept in `recent` and found by the look-back in accept().
    deps.versions.current(claims.userId).then(
      (current) => {
        if (socket.readyState !== socket.OPEN) return;
        if (!current || current.tokenVersion !== claims.version) { socket.close(CLOSE.UNAUTHORIZED, 'log in again'); return; }
        accept(socket, uuid, claims, now);
      },
      (err: unknown) => {
        // As the api does: with the database unreachable, the signature and expiry decide.
        deps.logger.warn({ err, userId: claims.userId }, 'token version unknown (database unreachable); token accepted on its signature');
        if (socket.readyState === socket.OPEN) accept(socket, uuid, claims, now);
      },
    );
  }

  function accept(socket: WebSocket, uuid: string, claims: TokenClaims, now: Date): void {
    const held = socketsOf.get(claims.userId) ?? 0;
    if (held >= maxSocketsPerUser) { socket.close(CLOSE.TOO_MANY, 'too many result sockets'); return; }
    socketsOf.set(claims.userId, held + 1);

    const listener: Listener = { socket, userId: claims.userId, done: false, since: now.getTime() };
    let set = listeners.get(uuid);
    if (!set) listeners.set(uuid, (set = new Set()));
    set.add(listener);
    deps.metrics.wsSockets.inc();
    alive.add(socket);
    socket.on('pong', markAlive);
    socket.on('close', () => {
      deps.metrics.wsSockets.dec();
      const left = (socketsOf.get(listener.userId) ?? 1) - 1;
      if (left > 0) socketsOf.set(listener.userId, left);
      else socketsOf.delete(listener.userId);
      set.delete(listener);
      if (set.size === 0 && listeners.get(uuid) === set) {
        listeners.delete(uuid);
        checkedAt.delete(uuid);
      }
    });

    // Registered first, then look back: a result landing in between is delivered once either way.
    const kept = recent.get(uuid);
    if (kept) { deliver(listener, kept.result); return; }
    // Not seen on the broadcast: decided before this process subscribed, more than keepMs ago, or not yet.
    // A second socket for the same uuid shares the read already asked for.
    if (!checkedAt.has(uuid)) {
      checkedAt.set(uuid, now.getTime());
      lookup.ask(uuid);
    }
  }

  // A result published while this process's subscription was reconnecting never reaches it, but the
  // worker stores every result before publishing it: sockets still waiting ask the database again, in
  // the same batched reads as the connects.
  const recheck = setInterval(() => {
    const now = deps.clock.now().getTime();
    for (const set of listeners.values()) {
      for (const listener of set) {
        if (!listener.done && now - listener.since >= waitMs) {
          listener.done = true;
          listener.socket.close(CLOSE.NO_RESULT_YET, 'no result yet; ask the results endpoint');
        }
      }
    }
    for (const uuid of listeners.keys()) {
      if (now - (checkedAt.get(uuid) ?? 0) < recheckMs) continue;
      checkedAt.set(uuid, now);
      lookup.ask(uuid);
    }
  }, recheckMs);
  recheck.unref();

  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, opts.heartbeatMs ?? 30_000);
  heartbeat.unref();

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    port,
    socketCount: () => wss.clients.size,
    async close() {
      clearInterval(heartbeat);
      clearInterval(prune);
      clearInterval(recheck);
      lookup.close();
      await subscription.close();
      for (const socket of wss.clients) socket.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await closeUpgradeServer(server);
    },
  };
}
