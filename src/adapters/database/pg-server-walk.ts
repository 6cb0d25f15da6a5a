/**
 * Connections for a DATABASE_URL naming several servers (or asking for a writable one), made the way libpq
 * makes them: the servers are tried in order, each within the connect deadline, and with
 * target_session_attrs=read-write (primary) a server that answers but is read-only (in recovery) is skipped.
 * After a failover the first connection attempt finds the new primary on its own.
 *
 * pg-pool makes its connections with `new Client(options)` then `connect()`; a pg.Client is bound to one
 * server for life, so the pool is given `WalkingClient` instead: it opens one pg.Client per server tried,
 * keeps the first that fits and hands every call on to it.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { sqlState } from './database.ts';
import type { PgServer, TargetSessionAttrs } from './pg-hosts.ts';

export interface ServerWalk {
  readonly servers: readonly PgServer[];
  readonly targetSessionAttrs: TargetSessionAttrs;
  /** Deadline of one server: connect, authenticate, and the read-write check (libpq's connect_timeout). */
  readonly perServerTimeoutMs: number;
}

/**
 * What the connections of one pool learn about the servers. The server that answered last is tried first
 * (after a failover every new connection would otherwise knock at the dead server before the live one).
 */
export class ServerChoice {
  #good: number | undefined;
  readonly #epochs: number[];

  constructor(count: number) {
    this.#epochs = Array.from({ length: count }, () => 0);
  }

  /** The last good server, then every server in the order written (libpq's order). */
  order(): number[] {
    const all = this.#epochs.map((_, i) => i);
    return this.#good === undefined ? all : [this.#good, ...all.filter((i) => i !== this.#good)];
  }

  succeeded(server: number): void {
    this.#good = server;
  }

  failed(server: number): void {
    if (this.#good === server) this.#good = undefined;
  }

  /**
   * A connection met its server refusing writes or shutting down: the next connection looks for the
   * primary from the top, and the pool's other connections to that server are discarded when next released.
   */
  demote(server: number): void {
    this.failed(server);
    this.#epochs[server] = (this.#epochs[server] ?? 0) + 1;
  }

  epoch(server: number): number {
    return this.#epochs[server] ?? 0;
  }
}

/** No server could be used. SQLSTATE 08001 (unable to establish a connection): callers see UNAVAILABLE. */
export class NoUsableServerError extends Error {
  readonly code = '08001';

  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'NoUsableServerError';
  }
}

/** Why a connected server does not fit the target, or undefined when it does. */
async function unfitness(client: pg.Client, target: TargetSessionAttrs, timeoutMs: number): Promise<string | undefined> {
  if (target === 'any') return undefined;
  // The same questions libpq asks: a session's default on the server, or whether it is a standby.
  const text = target === 'read-write' ? 'SHOW transaction_read_only' : 'SELECT pg_is_in_recovery()::text AS in_recovery';
  const queryConfig = { text, query_timeout: timeoutMs } as pg.QueryConfig;
  const row = (await client.query<Record<string, string>>(queryConfig)).rows[0];
  if (target === 'read-write') return row?.transaction_read_only === 'off' ? undefined : 'read-only';
  return row?.in_recovery === 'false' ? undefined : 'in recovery (a standby)';
}

const ignore = (): void => undefined;

/**
 * The server's own refusals (wrong password, no such database) are the settings' mistake, not an outage:
 * when every server answered with one, the first passes unchanged so it is not mistaken for UNAVAILABLE.
 */
function refusalOfEveryServer(errors: unknown[]): Error | undefined {
  const refusal = (err: unknown) => err instanceof Error && !/^(08|57|53)/.test(sqlState(err) ?? '08');
  return errors.length > 0 && errors.every(refusal) ? (errors[0] as Error) : undefined;
}

/** pg.Client's state that pg-pool reads to decide whether a released client may be used again. */
interface PoolFacingState {
  _queryable?: boolean;
  _ending?: boolean;
}

export class WalkingClient extends EventEmitter {
  readonly #config: pg.ClientConfig;
  readonly #walk: ServerWalk;
  readonly #choice: ServerChoice;
  #client: pg.Client | undefined;
  #server = -1;
  #epoch = 0;
  #abandoned = false;
  readonly #failures: { server: PgServer; err: unknown }[] = [];
  #giveUp: ((err: Error) => void) | undefined;

  constructor(config: pg.ClientConfig, walk: ServerWalk, choice: ServerChoice) {
    super();
    this.#config = config;
    this.#walk = walk;
    this.#choice = choice;
  }

  connect(): Promise<this>;
  connect(callback: (err?: Error) => void): undefined;
  connect(callback?: (err?: Error) => void): Promise<this> | undefined {
    const connected = new Promise<this>((resolve, reject) => {
      this.#giveUp = reject;
      this.#walkServers().then(() => resolve(this), reject);
    });
    if (!callback) return connected;
    connected.then(() => callback(), callback);
    return undefined;
  }

  async #walkServers(): Promise<void> {
    for (const i of this.#choice.order()) {
      if (this.#isAbandoned()) return;
      const server = this.#walk.servers[i]!;
      try {
        const client = await this.#tryServer(server);
        if (this.#isAbandoned()) {
          client.end().catch(ignore);
          return;
        }
        this.#adopt(client, i);
        this.#choice.succeeded(i);
        return;
      } catch (err) {
        this.#choice.failed(i);
        this.#failures.push({ server, err });
      }
    }
    const refusal = refusalOfEveryServer(this.#failures.map((f) => f.err));
    if (refusal !== undefined) throw refusal;
    throw this.#noServer('');
  }

  /** Every server tried so far and why it did not do. */
  #noServer(more: string): NoUsableServerError {
    const wanted = this.#walk.targetSessionAttrs === 'any' ? 'usable' : this.#walk.targetSessionAttrs;
    const tried = this.#failures.map(({ server, err }) => `${server.label} ${err instanceof Error ? err.message : String(err)}`);
    return new NoUsableServerError(`no ${wanted} PostgreSQL server${more}: ${tried.join('; ') || 'none tried yet'}`, this.#failures.at(-1)?.err);
  }

  /** Set by end() while a walk awaits a server. */
  #isAbandoned(): boolean {
    return this.#abandoned;
  }

  async #tryServer(server: PgServer): Promise<pg.Client> {
    const timeoutMs = this.#walk.perServerTimeoutMs;
    const startedAt = Date.now();
    const client = new pg.Client({ ...this.#config, connectionString: server.url, connectionTimeoutMillis: timeoutMs });
    // Errors of a kept connection reach this client's listeners; those of an attempt given up go nowhere.
    client.on('error', (err) => {
      if (this.#client === client && this.listenerCount('error') > 0) this.emit('error', err);
    });
    try {
      await client.connect();
      const unfit = await unfitness(client, this.#walk.targetSessionAttrs, Math.max(1, timeoutMs - (Date.now() - startedAt)));
      if (unfit !== undefined) throw new Error(unfit);
      return client;
    } catch (err) {
      client.end().catch(ignore);
      throw err;
    }
  }

  #adopt(client: pg.Client, server: number): void {
    this.#client = client;
    this.#server = server;
    this.#epoch = this.#choice.epoch(server);
    client.on('end', () => this.emit('end'));
    client.on('notice', (notice) => this.emit('notice', notice));
    client.on('notification', (message) => this.emit('notification', message));
  }

  /** Every form of pg.Client#query (promise or callback, text or config): handed on unchanged. */
  query(...args: unknown[]): unknown {
    if (!this.#client) throw new Error('query before connect');
    return Reflect.apply(this.#client.query, this.#client, args) as unknown;
  }

  end(): Promise<void>;
  end(callback: () => void): undefined;
  end(callback?: () => void): Promise<void> | undefined {
    // A walk still under way (the pool's deadline passed, or the pool closes) stops here and now.
    this.#abandoned = true;
    if (!this.#client) this.#giveUp?.(this.#noServer(' before the deadline'));
    const ended = this.#client ? this.#client.end() : Promise.resolve();
    if (!callback) return ended;
    ended.then(callback, callback);
    return undefined;
  }

  /** pg-pool asks this when its connect deadline passes on a client without a socket of its own. */
  isConnected(): boolean {
    return this.#client !== undefined;
  }

  /** The server of this connection refuses writes or shuts down (see ServerChoice.demote). */
  demote(): void {
    if (this.#client) this.#choice.demote(this.#server);
  }

  /** Read by pg-pool on release: false discards the client (a dead socket, or a server demoted since). */
  get _queryable(): boolean {
    const state = this.#client as PoolFacingState | undefined;
    return state !== undefined && state._queryable !== false && this.#choice.epoch(this.#server) === this.#epoch;
  }

  get _ending(): boolean {
    return (this.#client as PoolFacingState | undefined)?._ending === true;
  }
}

/**
 * The client class of a pool on these servers. Typed as pg.Client for the pool's sake: it implements what
 * pg-pool and the database adapter call (connect, query, end, events), not the rest of pg.Client.
 */
export function walkingClientClass(walk: ServerWalk, choice: ServerChoice): typeof pg.Client {
  class PoolWalkingClient extends WalkingClient {
    constructor(config: pg.ClientConfig) {
      super(config, walk, choice);
    }
  }
  return PoolWalkingClient as unknown as typeof pg.Client;
}
