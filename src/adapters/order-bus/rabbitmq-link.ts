/**
 * One RabbitMQ connection that heals: it moves over the nodes of the cluster with backoff
 * (rabbitmq-node-walk.ts), and on every (re)connect re-asserts the topology, opens a fresh confirm channel
 * for publishes and re-attaches every open subscription. While it is down, new publishes fail at once
 * instead of waiting for the broker; those already written when it went are published again on the next
 * connection (rabbitmq-publish.ts).
 *
 * Why a channel error recycles the whole connection: a channel the broker closed (a deleted queue, a
 * protocol error) would otherwise leave a consumer silently gone; reconnecting re-runs the one place
 * that knows how to rebuild everything.
 */
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import { assertAlertQueue, assertTopology, type TopologyNames } from './rabbitmq-topology.ts';
import type { AmqpNode } from './rabbitmq-nodes.ts';
import type { BusLogger } from './rabbitmq-logger.ts';
import { walkNodes, type AmqpConnect } from './rabbitmq-node-walk.ts';
import { confirmedPublisher, unavailable, until, type Publish, type PublishSession } from './rabbitmq-publish.ts';

export { heartbeatMsOf } from './rabbitmq-node-walk.ts';
export { unavailable, type PublishOptions } from './rabbitmq-publish.ts';

export { silentLogger, type BusLogger } from './rabbitmq-logger.ts';

/** A consumer or subscriber that must be rebuilt on every new connection. */
export interface Attachment {
  attach(model: ChannelModel): Promise<void>;
}

interface Session extends PublishSession {
  model: ChannelModel;
  /** A fresh publish channel being opened (after a nack), and when the current one was opened. */
  renewing: Promise<void> | null;
  pubOpenedAt: number;
  /**
   * Every consumer and subscriber is attached again. Publishing opens earlier (a handler's retry needs it);
   * "connected" waits for this, so nothing told the bus is up publishes before this process listens again.
   */
  ready: boolean;
}

export interface LinkOptions {
  /** The nodes of one cluster (rabbitmq-nodes.ts), tried in this order at start. */
  nodes: readonly AmqpNode[];
  names: TopologyNames;
  logger: BusLogger;
  /** Rounds over the node list at start before giving up (later outages are retried forever). */
  connectRetries: number;
  /** A publish not confirmed by then rejects (UNAVAILABLE); the message may still arrive. Default 5 s. */
  confirmTimeoutMs?: number;
  /** How a connection to a node is opened. Default amqplib's `connect`. */
  connect?: AmqpConnect;
}

export interface Link {
  readonly attachments: Set<Attachment>;
  /** Persistent, JSON, confirmed. `toQueue` publishes are mandatory: an unroutable message rejects. */
  publish: Publish;
  /** A channel whose unexpected end recycles the connection. */
  openChannel(model: ChannelModel, purpose: string): Promise<Channel>;
  closeChannel(channel: Channel): Promise<void>;
  /** The live connection, or a prompt UNAVAILABLE. */
  model(): ChannelModel;
  /** The connection is gone or unusable (a consumer was cancelled by the broker): rebuild everything. */
  recycle(model: ChannelModel, reason: string): void;
  isConnected(): boolean;
  whenConnected(): Promise<void>;
  /** `host:port` of the node the link is connected to, null while it is not. */
  node(): string | null;
  readonly closed: boolean;
  close(): Promise<void>;
}

export async function openLink(opts: LinkOptions): Promise<Link> {
  const { names, logger } = opts;
  const confirmTimeoutMs = opts.confirmTimeoutMs ?? 5000;
  const attachments = new Set<Attachment>();
  const closingChannels = new WeakSet<Channel>();
  let session: Session | null = null;
  let closed = false;
  let waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /** Publishes waiting for a connection to write their copy again on. */
  const publishWaiters = new Set<(s: Session | null) => void>();

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
    // This link's own view of the connection: an error or a close during the set-up fails the set-up.
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

    const admin = await model.createChannel();
    admin.on('error', () => undefined);
    await assertTopology(admin, names);
    await closeChannel(admin);
    await assertAlertQueue(model, names);

    const s = {
      model,
      returned: new Set<string>(),
      drained: null,
      blocked: false,
      lost: false,
      ready: false,
      renewing: null,
      pubOpenedAt: Date.now(),
    } as Omit<Session, 'pub'> as Session;
    s.pub = await openPublishChannel(s);
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
    for (const w of [...publishWaiters]) w(s);
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

  async function openPublishChannel(s: Session): Promise<ConfirmChannel> {
    const pub = await s.model.createConfirmChannel();
    watchChannel(s.model, pub, 'publish');
    // The session is lost with the channel it publishes on, not with one it has replaced.
    pub.on('close', () => {
      if (s.pub === pub) s.lost = true;
    });
    pub.on('return', (msg: { properties: { messageId?: unknown } }) => {
      if (typeof msg.properties.messageId === 'string') s.returned.add(msg.properties.messageId);
    });
    return pub;
  }

  function renew(ps: PublishSession, nacked: ConfirmChannel): void {
    const s = ps as Session;
    if (s.renewing || s.pub !== nacked || s.lost || closed) return;
    s.renewing = (async () => {
      // Not more often than every 200 ms: while a queue elects its leader, a new channel may nack again.
      await new Promise((r) => setTimeout(r, Math.max(0, s.pubOpenedAt + 200 - Date.now())));
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the connection's events during the wait above
      if (s.lost || closed) return;
      logger.warn({}, 'rabbitmq nacked a publish: publishing on a fresh channel');
      const pub = await openPublishChannel(s);
      s.pub = pub;
      s.pubOpenedAt = Date.now();
      // Its unconfirmed publishes end as "lost" and are written again on the new one.
      await closeChannel(nacked);
    })()
      .catch((err: unknown) => recycle(s.model, `could not open a fresh publish channel: ${String(err)}`))
      .finally(() => {
        s.renewing = null;
      });
  }

  function current(): Session {
    if (closed) throw unavailable('The order bus is closed.');
    if (!session || session.lost) throw unavailable('RabbitMQ is not connected; reconnecting.');
    return session;
  }

  function usable(): Session {
    const s = current();
    if (s.blocked) throw unavailable('RabbitMQ is refusing publishes (resource alarm).');
    return s;
  }

  async function nextSession(deadlineAt: number): Promise<Session | null> {
    const s = session;
    if (closed) return null;
    if (s && !s.lost) {
      if (!s.renewing) return s;
      await until(s.renewing, deadlineAt);
      return Date.now() < deadlineAt ? nextSession(deadlineAt) : null;
    }
    return new Promise((resolve) => {
      const done = (s: Session | null): void => {
        clearTimeout(timer);
        publishWaiters.delete(done);
        resolve(s);
      };
      const timer = setTimeout(() => done(null), Math.max(0, deadlineAt - Date.now()));
      publishWaiters.add(done);
    });
  }

  const publish = confirmedPublisher({ usable, next: nextSession, renew }, confirmTimeoutMs, logger);

  const walk = walkNodes({
    nodes: opts.nodes,
    logger,
    startRetries: opts.connectRetries,
    setUp,
    ...(opts.connect ? { connect: opts.connect } : {}),
  });
  try {
    await walk.started;
  } catch (cause) {
    closed = true;
    await walk.close();
    throw unavailable(`Cannot connect to RabbitMQ at ${opts.nodes.map((n) => n.label).join(', ')}.`, cause);
  }

  return {
    attachments,
    publish,
    openChannel,
    closeChannel,
    recycle,
    model: () => current().model,
    isConnected: () => session?.ready === true,
    node: () => (session?.ready ? (walk.node()?.label ?? null) : null),
    whenConnected() {
      if (closed) return Promise.reject(unavailable('The order bus is closed.'));
      if (session?.ready) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
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
      for (const w of [...publishWaiters]) w(null);
      await walk.close();
    },
  };
}
