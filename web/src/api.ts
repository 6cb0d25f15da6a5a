/** The shop's HTTP client: docs/api.md's shapes, its error body, and the signed-in session. */
import { createStore } from './store.ts';

// The api's response shapes, declared once on the server (zod) and checked here by `npm run typecheck`.
import type {
  AdminOrderJson,
  AuditEntryJson,
  ClientConfigJson,
  OrderJson,
  PushFrameJson,
  SaleStatsJson,
  SeckillGoodJson,
  SeckillResultJson,
  SessionJson,
  UserJson,
} from '../../src/entry-points/http/responses.ts';

export type User = UserJson;
export type Role = User['role'];
export type Good = SeckillGoodJson;
export type Order = OrderJson;
export type OrderStatus = Order['status'];
export type SeckillResult = SeckillResultJson;
export type PushFrame = PushFrameJson;
export type SaleStats = SaleStatsJson;
export type Session = SessionJson;
export type ClientConfig = ClientConfigJson;
export type AdminOrder = AdminOrderJson;
export type AuditEntry = AuditEntryJson;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: { fields?: string[]; problems?: { field: string; problem: string }[]; refunded?: boolean } & Record<string, unknown>,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

const SESSION_KEY = 'seckill.session';

const alive = (at: string | undefined) => at !== undefined && new Date(at).getTime() > Date.now();

/** A kept session whose access token expired still counts while its refresh token lives (it is traded on first use). */
function loadSession(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return s && (alive(s.expiresAt) || (s.refreshToken !== undefined && alive(s.refreshExpiresAt))) ? s : null;
  } catch {
    return null;
  }
}

export const sessionStore = createStore<Session | null>(loadSession());

export function setSession(session: Session | null): void {
  if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else localStorage.removeItem(SESSION_KEY);
  sessionStore.set(session);
}

let refreshing: Promise<Session | null> | null = null;

/** Trade the refresh token for a new session, once at a time (a token used twice ends its family). */
function refreshNow(session: Session): Promise<Session | null> {
  refreshing ??= (async () => {
    try {
      const res = await fetch('/api/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: session.refreshToken }) });
      if (res.ok) {
        const next = (await res.json()) as Session;
        if (sessionStore.get()?.refreshToken === session.refreshToken) setSession(next);
        return next;
      }
      // Refused: the session has ended (logout elsewhere, password change, a reused token). Other answers
      // (the shop down) keep it for the next try.
      if (res.status === 401 && sessionStore.get()?.refreshToken === session.refreshToken) setSession(null);
      return null;
    } catch {
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** The access token to send: traded for a new one first when it has expired or is about to (a minute). */
export async function freshToken(): Promise<string | null> {
  const session = sessionStore.get();
  if (!session) return null;
  if (new Date(session.expiresAt).getTime() - 60_000 > Date.now() || !session.refreshToken) return session.token;
  return (await refreshNow(session))?.token ?? (alive(session.expiresAt) ? session.token : null);
}

/** Milliseconds to add to the local clock to get the server's (from the Date header; countdowns use it). */
let clockOffsetMs = 0;
export const serverNow = () => Date.now() + clockOffsetMs;

export async function api<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
  const token = await freshToken();
  const session = sessionStore.get();
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : 'network error');
  }
  const text = await res.text();
  let json: { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
  try {
    json = text ? (JSON.parse(text) as typeof json) : undefined;
  } catch {
    json = undefined;
  }
  if (res.ok) return json as T;
  const e: { code?: unknown; message?: unknown; details?: unknown } = json?.error ?? {};
  const code = typeof e.code === 'string' ? e.code : res.status >= 500 ? 'INTERNAL' : 'INVALID_INPUT';
  // A token refused before its time (another process's secret, a cached version): the refresh token gets one
  // try; then the session is forgotten and the pages offer to log in again.
  if (code === 'UNAUTHORIZED' && session && sessionStore.get() === session) {
    if (!retried && session.refreshToken && path !== '/api/auth/logout' && (await refreshNow(session))) return api<T>(method, path, body, true);
    if (sessionStore.get() === session) setSession(null);
  }
  const retry = Number(res.headers.get('retry-after'));
  throw new ApiError(res.status, code, typeof e.message === 'string' ? e.message : res.statusText, e.details as ApiError['details'], Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

let configPromise: Promise<ClientConfig> | null = null;

/** Where the result socket is (the api knows the real port), fetched once. */
export function clientConfig(): Promise<ClientConfig> {
  configPromise ??= fetch('/api/config').then(async (res) => {
    const date = Date.parse(res.headers.get('date') ?? '');
    // The Date header has whole seconds: only correct clocks that are clearly off.
    if (Number.isFinite(date) && Math.abs(date + 500 - Date.now()) > 2000) clockOffsetMs = date + 500 - Date.now();
    if (!res.ok) throw new Error(`config ${res.status}`);
    return (await res.json()) as ClientConfig;
  });
  configPromise.catch(() => (configPromise = null));
  return configPromise;
}
