/**
 * One RabbitMQ connection that heals: it reconnects with backoff (amqplib's own recovery), and on every
 * (re)connect re-asserts the topology, opens a fresh confirm channel for publishes and re-attaches every
 * open subscription. While it is down, publishes fail at once instead of waiting for the broker.
 *
 * Why a channel error recycles the whole connection: a channel the broker closed (a deleted queue, a
 * protocol error) would otherwise leave a consumer silently gone; reconnecting re-runs the one place
 * that knows how to rebuild everything.
 */
import type { Duplex } from 'node:stream';
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, Options, RecoveringChannelModel } from 'amqplib';
import { SeckillError } from '../../core/errors.ts';
import { assertAlertQueue, assertTopology, type TopologyNames } from './rabbitmq-topology.ts';

/** The subset of a pino logger the bus uses. */
export interface BusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: BusLogger = { info() {}, warn() {}, error() {} };

/** A consumer or subscriber that must be rebuilt on every new connection. */
export interface Attachment {
  attach(model: ChannelModel): Promise<void>;
}

interface Session {
  model: ChannelModel;
  pub: ConfirmChannel;
  /** messageIds of mandatory publishes the broker returned as unroutable (the return precedes the ack). */
  returned: Set<string>;
  /** Set while the socket buffer is full: publishes wait for 'drain' (or the channel's end). */
  drained: Promise<void> | null;
  blocked: boolean;
  /**
   * Every consumer and subscriber is attached again. Publishing opens earlier (a handler's retry needs it);
   * "connected" waits for this, so nothing told the bus is up publishes before this process listens again.
   */
  ready: boolean;
}

export interface LinkOptions {
  url: string;
  names: TopologyNames;
  logger: BusLogger;
  /** Connection attempts at start before giving up (later outages are retried forever). */
  connectRetries: number;
  /** A publish not confirmed by then rejects (UNAVAILABLE); the message may still arrive. Default 5 s. */
  confirmTimeoutMs?: number;
}

export interface PublishOptions {
  headers?: Record<string, unknown>;
  toQueue?: boolean;
  /** Not written to the socket after this moment (epoch ms): rejects UNAVAILABLE, not sent. */
  sendBy?: number;
}

export interface Link {
  readonly attachments: Set<Attachment>;
  /** Persistent, JSON, confirmed. `toQueue` publishes are mandatory: an unroutable message rejects. */
  publish(exchange: string, routingKey: string, body: Buffer, opts?: PublishOptions): Promise<void>;
  /** A channel whose unexpected end recycles the connection. */
  openChannel(model: ChannelModel, purpose: string): Promise<Channel>;
  closeChannel(channel: Channel): Promise<void>;
  /** The live connection, or a prompt UNAVAILABLE. */
  model(): ChannelModel;
  /** The connection is gone or unusable (a consumer was cancelled by the broker): rebuild everything. */
  recycle(model: ChannelModel, reason: string): void;
  isConnected(): boolean;
  whenConnected(): Promise<void>;
  /** Test hook: destroy the socket as a broker crash would; refuse reconnects for `outageMs`. */
  simulateConnectionLoss(outageMs: number): void;
  readonly closed: boolean;
  close(): Promise<void>;
}

const RECONNECT = { initialDelay: 100, maxDelay: 5000, factor: 2, jitter: 0.2 };
const HEARTBEAT_SECONDS = '10';
const CONNECT_TIMEOUT_MS = 5000;

export const unavailable = (message: string, cause?: unknown): SeckillError =>
  new SeckillError('UNAVAILABLE', message, cause === undefined ? {} : { cause });

export async function openLink(opts: LinkOptions): Promise<Link> {
  const { names, logger } = opts;
  const confirmTimeoutMs = opts.confirmTimeoutMs ?? 5000;
  const attachments = new Set<Attachment>();
  const closingChannels = new WeakSet<Channel>();
  let session: Session | null = null;
  let closed = false;
  let outageUntil = 0;
  let messageSeq = 0;
  let waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  const url = withHeartbeat(opts.url);
  const where = redactedHost(opts.url);

  async function openChannel(model: ChannelModel, purpose: string): Promise<Channel> {
    const channel = await model.createChannel();
    watchChannel(model, channel, purpose);
    return channel;
  }

  function watchChannel(model: ChannelModel, channel: Channel, purpose: string): void {
    channel.on('error', (err: Error) => logger.warn({ err, purpose }, 'rabbitmq channel error'));
    channel.on('close', () => {
      if (closed || closingChannels.has(channel)) return;
      // When the whole connection goes, its channels close first and the connection right after, in the
      // same tick: look again once that has happened so only a lone channel failure recycles.
      setImmediate(() => {
        if (session?.model === model) recycle(model, `${purpose} channel closed unexpectedly`);
      });
    });
  }

  async function closeChannel(channel: Channel): Promise<void> {
    closingChannels.add(channel);
    await channel.close().catch(() => undefined);
  }

  function recycle(model: ChannelModel, reason: string): void {
    if (closed) return;
    logger.error({ reason }, 'rabbitmq: recycling the connection');
    if (session?.model === model) session = null;
    model.close().catch(() => undefined);
  }

  /** Runs on every successful TCP+AMQP connect, before the connection counts as up. */
  async function setUp(model: ChannelModel): Promise<void> {
    let lost = false;
    // Recovery binds its own listeners only after setup: without these an error during setup would throw.
    model.on('error', (err: Error) => {
      lost = true;
      if (session?.model === model) session = null;
      logger.warn({ err: String(err) }, 'rabbitmq connection error');
    });
    model.on('close', () => {
      lost = true;
      if (session?.model === model) session = null;
    });
    if (closed) throw new Error('order bus closed');
    if (Date.now() < outageUntil) throw new Error('simulated broker outage');

    const admin = await model.createChannel();
    admin.on('error', () => undefined);
    await assertTopology(admin, names);
    await closeChannel(admin);
    await assertAlertQueue(model, names);

    const pub = await model.createConfirmChannel();
    watchChannel(model, pub, 'publish');
    const s: Session = { model, pub, returned: new Set(), drained: null, blocked: false, ready: false };
    pub.on('return', (msg: { properties: { messageId?: unknown } }) => {
      if (typeof msg.properties.messageId === 'string') s.returned.add(msg.properties.messageId);
    });
    model.on('blocked', (reason: string) => {
      s.blocked = true;
      logger.warn({ reason }, 'rabbitmq blocked publishes');
    });
    model.on('unblocked', () => {
      s.blocked = false;
      logger.info({}, 'rabbitmq unblocked publishes');
    });
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the connection's events during the awaits above
    if (lost || closed) throw new Error('connection lost during setup');

    // Publishing is open before consumers re-attach: a handler's retry needs it.
    session = s;
    try {
      for (const attachment of [...attachments]) await attachment.attach(model);
    } catch (err) {
      if (session === s) session = null;
      throw err;
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the connection's events during the awaits above
    if (lost) throw new Error('connection lost during setup');
    s.ready = true;
    for (const w of waiters.splice(0)) w.resolve();
  }

  function current(): Session {
    if (closed) throw unavailable('The order bus is closed.');
    if (!session) throw unavailable('RabbitMQ is not connected; reconnecting.');
    return session;
  }

  function usable(): Session {
    const s = current();
    if (s.blocked) throw unavailable('RabbitMQ is refusing publishes (resource alarm).');
    return s;
  }

  async function publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    o: PublishOptions = {},
  ): Promise<void> {
    let s = usable();
    while (s.drained) {
      await s.drained;
      s = usable();
    }
    // Checked in the same turn as the write below: a frame that goes out is never later than this.
    if (o.sendBy !== undefined && Date.now() > o.sendBy) throw unavailable('The message was not sent in time; nothing of it was published.');
    const messageId = o.toQueue ? `m${++messageSeq}` : undefined;
    const props: Options.Publish = { persistent: true, contentType: 'application/json', mandatory: o.toQueue === true };
    if (messageId) props.messageId = messageId;
    if (o.headers) props.headers = o.headers;
    const session = s;
    return new Promise<void>((resolve, reject) => {
      // No confirm in time (a stalled broker, a dead socket not yet noticed): the caller hears UNAVAILABLE.
      // The broker may still take the message, so callers treat this as "unknown", not "not sent".
      const deadline = setTimeout(() => {
        reject(new SeckillError('UNAVAILABLE', 'RabbitMQ did not confirm the message in time.', { details: { unconfirmed: true } }));
      }, confirmTimeoutMs);
      const confirmed = (err: unknown): void => {
        clearTimeout(deadline);
        if (err) reject(unavailable('RabbitMQ did not confirm the message.', err));
        else if (messageId && session.returned.delete(messageId)) reject(unavailable(`No queue took the message (${routingKey}).`));
        else resolve();
      };
      try {
        const writable = session.pub.publish(exchange, routingKey, body, props, confirmed);
        if (!writable && !session.drained) session.drained = waitForDrain(session);
      } catch (err) {
        clearTimeout(deadline);
        reject(unavailable('RabbitMQ publish failed.', err));
      }
    });
  }

  function waitForDrain(s: Session): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        s.pub.off('drain', done);
        s.pub.off('close', done);
        s.drained = null;
        resolve();
      };
      s.pub.on('drain', done);
      s.pub.on('close', done);
    });
  }

  const recovering: RecoveringChannelModel = await connect(url, {
    // A batch is several TCP segments: with Nagle on, the last one waits for the broker's delayed ACK
    // (~40 ms on Linux), and so does every confirm. Measured: a 2.4 KB batch took 45 ms to confirm, 2.5 ms with this.
    noDelay: true,
    // Connect deadline (TCP + AMQP handshake); recovery retries after it.
    timeout: CONNECT_TIMEOUT_MS,
    recovery: { ...RECONNECT, initialMaxRetries: opts.connectRetries, waitForConnect: false, setup: setUp },
  });
  recovering.on('error', () => undefined); // already logged by the per-connection listener
  recovering.on('connect', () => logger.info({ where }, 'rabbitmq connected, topology asserted'));
  recovering.on('disconnect', (err: Error) => logger.warn({ where, err: String(err) }, 'rabbitmq disconnected'));
  recovering.on('connect-failed', (err: Error) => logger.warn({ where, err: String(err) }, 'rabbitmq connect failed'));
  recovering.on('reconnect-scheduled', (info: { attempt: number; delay: number }) =>
    logger.info({ where, attempt: info.attempt, delayMs: info.delay }, 'rabbitmq reconnect scheduled'),
  );
  recovering.on('reconnect-failed', (err: Error) => logger.error({ where, err: String(err) }, 'rabbitmq gave up reconnecting'));
  try {
    await recovering.waitForConnect();
  } catch (cause) {
    closed = true;
    await recovering.close().catch(() => undefined);
    throw unavailable(`Cannot connect to RabbitMQ at ${where}.`, cause);
  }

  return {
    attachments,
    publish,
    openChannel,
    closeChannel,
    recycle,
    model: () => current().model,
    isConnected: () => session?.ready === true,
    whenConnected() {
      if (closed) return Promise.reject(unavailable('The order bus is closed.'));
      if (session?.ready) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    simulateConnectionLoss(outageMs) {
      outageUntil = Date.now() + outageMs;
      const s = session;
      session = null;
      if (s) socketOf(s.model).destroy(new Error('simulated connection loss'));
    },
    get closed() {
      return closed;
    },
    async close() {
      if (closed) return;
      closed = true;
      session = null;
      attachments.clear();
      const pending = waiters;
      waiters = [];
      for (const w of pending) w.reject(unavailable('The order bus is closed.'));
      await recovering.close();
    },
  };
}

function socketOf(model: ChannelModel): Duplex {
  return (model.connection as unknown as { stream: Duplex }).stream;
}

/** The heartbeat a connection to this URL uses, in ms. */
export function heartbeatMsOf(url: string): number {
  return 1000 * Number(new URL(url).searchParams.get('heartbeat') ?? HEARTBEAT_SECONDS);
}

function withHeartbeat(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', HEARTBEAT_SECONDS);
  return u.toString();
}

function redactedHost(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
