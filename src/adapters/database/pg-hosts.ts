/**
 * DATABASE_URL with several servers, read the way libpq reads it:
 *
 *   postgres://user:secret@db1:5432,db2:5433,[fd00::3]/shop?target_session_attrs=read-write
 *
 * node-postgres takes one server per connection string, so each server gets a URL of its own: its host and
 * port, and everything else of the original (user, password, database, parameters) unchanged. Pure: no I/O,
 * so the settings can check a URL before anything connects.
 */

/**
 * What a connection must find on its server (libpq's target_session_attrs). The shop writes, so only the
 * values that can end on a writable server are taken; `any` (libpq's default) takes the first server that
 * answers.
 */
export const TARGET_SESSION_ATTRS = ['any', 'read-write', 'primary'] as const;
export type TargetSessionAttrs = (typeof TARGET_SESSION_ATTRS)[number];

/** libpq values that can only end on a server refusing the shop's writes. */
const READ_ONLY_TARGETS = ['read-only', 'standby', 'prefer-standby'];

export const DEFAULT_PG_PORT = 5432;

export interface PgServer {
  /** Host name or address, IPv6 without its brackets (percent-encoding kept, as written). */
  readonly host: string;
  readonly port: number;
  /** `host:port` (`[v6]:port`) for messages and logs: never the credentials. */
  readonly label: string;
  /** A single-server URL node-postgres understands. */
  readonly url: string;
}

export interface PgServers {
  readonly servers: readonly PgServer[];
  readonly targetSessionAttrs: TargetSessionAttrs;
  /**
   * One server and nothing to check on it: node-postgres takes the URL exactly as given (as it always
   * did), whatever its form (a Unix socket, `host=` in the parameters …).
   */
  readonly plain: boolean;
}

/** A DATABASE_URL the product cannot use; the message says what to change (and never repeats a password). */
export class PgUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgUrlError';
  }
}

const URL_FORM = /^(postgres(?:ql)?):\/\/([^/?#]*)(.*)$/is;
const BRACKETED = /^\[([^\]]+)\](?::(\d*))?$/;
const NAMED = /^([^:[\]]*)(?::(\d*))?$/;

interface Parameters {
  targetSessionAttrs: TargetSessionAttrs;
  /** The rest of the URL (path, parameters, fragment) with target_session_attrs taken out. */
  rest: string;
  names: Set<string>;
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new PgUrlError(`a parameter name is not valid percent-encoding: ${raw}`);
  }
}

function readParameters(rest: string): Parameters {
  const hash = rest.indexOf('#');
  const beforeHash = hash === -1 ? rest : rest.slice(0, hash);
  const fragment = hash === -1 ? '' : rest.slice(hash);
  const question = beforeHash.indexOf('?');
  if (question === -1) return { targetSessionAttrs: 'any', rest, names: new Set() };
  const kept: string[] = [];
  const names = new Set<string>();
  let value: string | undefined;
  for (const pair of beforeHash.slice(question + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeName(eq === -1 ? pair : pair.slice(0, eq));
    names.add(name);
    if (name === 'target_session_attrs') value = decodeName(eq === -1 ? '' : pair.slice(eq + 1));
    else kept.push(pair);
  }
  const query = kept.length ? `?${kept.join('&')}` : '';
  return { targetSessionAttrs: targetSessionAttrs(value), rest: beforeHash.slice(0, question) + query + fragment, names };
}

function targetSessionAttrs(value: string | undefined): TargetSessionAttrs {
  if (value === undefined || value === '') return 'any';
  if ((TARGET_SESSION_ATTRS as readonly string[]).includes(value)) return value as TargetSessionAttrs;
  if (READ_ONLY_TARGETS.includes(value)) {
    throw new PgUrlError(
      `target_session_attrs=${value} would connect to a server that refuses writes, and the shop writes: use read-write, primary or any`,
    );
  }
  throw new PgUrlError(`target_session_attrs must be one of ${TARGET_SESSION_ATTRS.join(', ')} (got "${value}")`);
}

function readServer(entry: string, single: boolean): { host: string; port: number; label: string; written: string } {
  const bracketed = BRACKETED.exec(entry);
  const named = bracketed ? null : NAMED.exec(entry);
  const match = bracketed ?? named;
  if (!match) {
    throw new PgUrlError(`host "${entry}" is not host, host:port or [IPv6 address]:port (an IPv6 address goes in brackets)`);
  }
  const host = match[1]!;
  if (host === '' && !single) throw new PgUrlError('an empty host in the host list: give every server a host');
  const portText = match[2];
  const port = portText === undefined || portText === '' ? DEFAULT_PG_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PgUrlError(`host "${entry}": the port must be a number from 1 to 65535`);
  }
  const written = bracketed ? `[${host}]` : host;
  return { host, port, label: `${written}:${port}`, written };
}

/**
 * The servers a DATABASE_URL names and what a connection must find on them. Throws PgUrlError with a
 * message fit for the settings' list of problems.
 */
export function parsePgServers(url: string): PgServers {
  const form = URL_FORM.exec(url);
  // Forms other than postgres:// (a socket path …) are node-postgres's own business, as before.
  if (!form) return { servers: [{ host: '', port: DEFAULT_PG_PORT, label: '(as configured)', url }], targetSessionAttrs: 'any', plain: true };
  const [, scheme, authority, rawRest] = form as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const userinfo = authority.slice(0, at + 1);
  const entries = authority.slice(at + 1).split(',');
  const single = entries.length === 1;
  const { targetSessionAttrs, rest, names } = readParameters(rawRest);
  if (!single && (names.has('host') || names.has('port') || names.has('hostaddr'))) {
    throw new PgUrlError('with several hosts, give each host and port in the host list, not as host=, hostaddr= or port= parameters');
  }
  const servers = entries.map((entry) => {
    const { host, port, label, written } = readServer(entry, single);
    return { host, port, label, url: `${scheme}://${userinfo}${written}:${port}${rest}` };
  });
  const plain = single && targetSessionAttrs === 'any';
  if (plain) return { servers: [{ ...servers[0]!, url }], targetSessionAttrs, plain };
  if (servers.some((s) => s.host === '')) {
    throw new PgUrlError(`target_session_attrs=${targetSessionAttrs} needs the server's host in the URL`);
  }
  return { servers, targetSessionAttrs, plain };
}
