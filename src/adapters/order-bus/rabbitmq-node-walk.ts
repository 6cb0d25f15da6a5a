/**
 * The connection of a link, kept alive over the nodes of one RabbitMQ cluster (rabbitmq-nodes.ts).
 *
 * A start tries the nodes in the order written. A lost connection is replaced by walking the list from the
 * node after the one that failed: that one is the likeliest to be down still, and any other node serves the
 * same queues (quorum queues; a classic queue lives on one node only). Each attempt has a deadline (TCP and
 * AMQP handshake, then the set-up), so a hung node costs one deadline, not the link. Between attempts the wait
 * grows per round of the list (100 ms doubling to 5 s, ±20%): a cluster whose every node is down is not
 * hammered, and a single node behaves as it always did. After the first connect this goes on for as long as
 * the link is open.
 *
 * amqplib's own recovery reconnects to one URL only, hence this loop.
 */
import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import type { BusLogger } from './rabbitmq-logger.ts';
import type { AmqpNode } from './rabbitmq-nodes.ts';

/**
 * Opens one AMQP connection (TCP and handshake) with amqplib's socket options; amqplib's `connect` unless the
 * bus is given another (one that goes through a tunnel, or that watches the connections it opens).
 */
export type AmqpConnect = (url: string, socketOptions: { noDelay?: boolean; timeout?: number }) => Promise<ChannelModel>;

export interface NodeWalkOptions {
  nodes: readonly AmqpNode[];
  logger: BusLogger;
  /** Rounds over the whole list at start before giving up (later outages are retried forever). */
  startRetries: number;
  /** Runs on every connect before it counts; a throw or a missed deadline moves on to the next node. */
  setUp(model: ChannelModel, node: AmqpNode): Promise<void>;
  /** TCP connect and AMQP handshake. Default 5 s. */
  connectTimeoutMs?: number;
  /** `setUp` (the topology, the consumers). Default 10 s. */
  setUpTimeoutMs?: number;
  /** Default amqplib's `connect`. */
  connect?: AmqpConnect;
}

export interface NodeWalk {
  /** Resolves on the first connect; rejects once every start attempt failed. */
  readonly started: Promise<void>;
  /** The node of the live connection. */
  node(): AmqpNode | null;
  close(): Promise<void>;
}

const BACKOFF = { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.2 };
const HEARTBEAT_SECONDS = '10';

export function walkNodes(opts: NodeWalkOptions): NodeWalk {
  const { nodes, logger } = opts;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  const setUpTimeoutMs = opts.setUpTimeoutMs ?? 10_000;
  let stopped = false;
  let live: { model: ChannelModel; node: AmqpNode } | null = null;
  let lastNode: AmqpNode | null = null;
  let connecting: ChannelModel | null = null;
  let sleeping: { timer: NodeJS.Timeout; wake: () => void } | null = null;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        sleeping = null;
        resolve();
      };
      sleeping = { timer: setTimeout(wake, ms), wake };
    });

  function delayBefore(attempt: number): number {
    const round = Math.floor((attempt - 1) / nodes.length);
    const base = Math.min(BACKOFF.maxMs / (1 + BACKOFF.jitter), BACKOFF.initialMs * BACKOFF.factor ** round);
    return Math.round(base * (1 + BACKOFF.jitter * (2 * Math.random() - 1)));
  }

  async function attempt(node: AmqpNode): Promise<ChannelModel> {
    const model = await (opts.connect ?? connect)(withHeartbeat(node.url), {
      // A batch is several TCP segments: with Nagle on, the last one waits for the broker's delayed ACK
      // (~40 ms on Linux), and so does every confirm. Measured: a 2.4 KB batch took 45 ms to confirm, 2.5 ms with this.
      noDelay: true,
      timeout: connectTimeoutMs,
    });
    // Until the set-up binds its own: an 'error' event without a listener would throw.
    model.on('error', () => undefined);
    let gone = false;
    model.once('close', () => {
      gone = true;
      lost(model, node);
    });
    connecting = model;
    try {
      if (stopped) throw new Error('order bus closed');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`set-up not done within ${setUpTimeoutMs} ms`)), setUpTimeoutMs);
      });
      try {
        await Promise.race([opts.setUp(model, node), deadline]);
      } finally {
        clearTimeout(timer);
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by close() during the awaits above
      if (stopped) throw new Error('order bus closed');
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the close event during the awaits above
      if (gone) throw new Error('connection lost during set-up');
      live = { model, node };
      return model;
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    } finally {
      connecting = null;
    }
  }

  /** Walks the list from `from` until a node takes the link; false when stopped or out of start attempts. */
  async function walk(from: number, maxAttempts: number): Promise<boolean> {
    for (let n = 0; n < maxAttempts && !stopped; n++) {
      if (n > 0) await pause(delayBefore(n));
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by close() during the awaits above
      if (stopped) return false;
      const node = nodes[(from + n) % nodes.length]!;
      try {
        await attempt(node);
      } catch (err) {
        logger.warn({ node: node.label, attempt: n + 1, err: String(err) }, 'rabbitmq connect failed');
        continue;
      }
      if (lastNode && lastNode !== node) logger.warn({ from: lastNode.label, to: node.label }, `rabbitmq: moved to node ${node.label}`);
      else logger.info({ node: node.label }, 'rabbitmq connected, topology asserted');
      lastNode = node;
      return true;
    }
    return false;
  }

  function lost(model: ChannelModel, node: AmqpNode): void {
    if (live?.model !== model) return;
    live = null;
    if (stopped) return;
    logger.warn({ node: node.label }, 'rabbitmq disconnected; trying the next node');
    void walk(nodes.indexOf(node) + 1, Infinity);
  }

  const started = walk(0, (opts.startRetries + 1) * nodes.length).then((ok) => {
    if (!ok) throw new Error(stopped ? 'order bus closed' : `no RabbitMQ node answered (${nodes.map((n) => n.label).join(', ')})`);
  });
  // The caller may close before it awaits the start.
  started.catch(() => undefined);

  return {
    started,
    node: () => live?.node ?? null,
    async close() {
      if (stopped) return;
      stopped = true;
      if (sleeping) {
        clearTimeout(sleeping.timer);
        sleeping.wake();
      }
      const model = live?.model ?? connecting;
      live = null;
      if (model) await model.close().catch(() => undefined);
    },
  };
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
