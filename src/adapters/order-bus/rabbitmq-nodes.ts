/**
 * AMQP_URL as the nodes of one RabbitMQ cluster. Pure: no I/O, so the settings can check it before anything
 * connects. Two forms, not mixed:
 *
 *   amqp://shop:secret@rmq1:5672,amqp://shop:secret@rmq2:5672,amqps://shop:secret@rmq3:5671   each node a URL
 *   amqp://shop:secret@rmq1:5672,rmq2,[fd00::3]:5673/sale?heartbeat=5                           short form
 *
 * In the short form the scheme and credentials written before the first host, and the vhost and parameters
 * written after the last one, apply to every node (libpq's way with DATABASE_URL). A node without a port
 * takes 5672 (amqps: 5671). Every node must name the same vhost: they serve one cluster's queues.
 * A comma inside a password must be percent-encoded (%2C), as any reserved character of a URL.
 */
import { vhostOf } from './rabbitmq-queue-stats.ts';

export interface AmqpNode {
  /** A URL amqplib connects to: this node alone. */
  readonly url: string;
  /** `host:port` for logs and messages: never the credentials. */
  readonly label: string;
}

/** An AMQP_URL the product cannot use; the message says what to change and never repeats a password. */
export class AmqpUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AmqpUrlError';
  }
}

const SCHEME = /^amqps?:\/\//i;
const SHORT_FORM = /^(amqps?):\/\/([^/?#]*)(.*)$/is;
const ANY_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const BRACKETED = /^\[[^\]]+\](?::\d+)?$/;
const NAMED = /^[^:[\]@/?#\s]+(?::\d+)?$/;

const defaultPort = (protocol: string): number => (protocol === 'amqps:' ? 5671 : 5672);

/** The nodes an AMQP_URL names, in the order written (the order a start tries them). */
export function parseAmqpNodes(raw: string): AmqpNode[] {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new AmqpUrlError('an empty entry in the node list: remove the extra comma');
  const [first, ...others] = parts as [string, ...string[]];
  const foreign = parts.findIndex((p) => ANY_SCHEME.test(p) && !SCHEME.test(p));
  if (!SCHEME.test(first) || foreign !== -1) throw new AmqpUrlError(`${foreign > 0 ? `node ${foreign + 1}` : 'it'} must start with amqp:// or amqps://`);
  const withScheme = others.filter((p) => SCHEME.test(p)).length;
  let urls: string[];
  if (withScheme === others.length) urls = parts;
  else if (withScheme === 0) urls = expandShortForm(raw.trim());
  else throw new AmqpUrlError('either every node as a whole amqp:// URL, or one URL with a host list (amqp://user:pass@h1:5672,h2:5672/vhost): not both');
  const nodes = urls.map((u, i) => readNode(u, i + 1));
  const vhosts = new Set(nodes.map((n) => vhostOf(n.url)));
  if (vhosts.size > 1) throw new AmqpUrlError('every node must name the same vhost: the nodes of one cluster serve the same queues');
  const labels = new Set(nodes.map((n) => n.label));
  if (labels.size < nodes.length) throw new AmqpUrlError('a node is named twice');
  return nodes;
}

/** `amqp://user:pass@h1:5672,h2,h3:5673/vhost?x=y` → one URL per host, the rest shared. */
function expandShortForm(raw: string): string[] {
  const form = SHORT_FORM.exec(raw);
  if (!form) throw new AmqpUrlError('must start with amqp:// or amqps://');
  const [, scheme, authority, rest] = form as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const userinfo = authority.slice(0, at + 1);
  return authority
    .slice(at + 1)
    .split(',')
    .map((host) => {
      if (!BRACKETED.test(host) && !NAMED.test(host)) {
        throw new AmqpUrlError(`host "${host}" is not host, host:port or [IPv6 address]:port`);
      }
      return `${scheme}://${userinfo}${host}${rest}`;
    });
}

function readNode(raw: string, position: number): AmqpNode {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new AmqpUrlError(`node ${position} is not a valid URL (percent-encode reserved characters of the user and password)`);
  }
  if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') throw new AmqpUrlError(`node ${position}: the scheme must be amqp or amqps`);
  if (u.hostname === '') throw new AmqpUrlError(`node ${position} names no host`);
  try {
    vhostOf(raw);
  } catch {
    throw new AmqpUrlError(`node ${position}: the vhost is not valid percent-encoding`);
  }
  const port = u.port === '' ? defaultPort(u.protocol) : Number(u.port);
  return { url: raw, label: `${u.hostname}:${port}` };
}
