/**
 * The hidden buy path: a short-lived token for one buyer and one sale, handed out once the sale has started,
 * that the buy request must carry when the hidden path is on. A script cannot press before the sale opens,
 * reuse another buyer's path, or press many times with one path; it must ask for a path per request (a
 * request that is counted and limited like a press).
 *
 * `expiry.nonce.mac`, where mac = HMAC-SHA256(secret, "buy-path|user|good|expiry|nonce"): checked with no I/O.
 * Single use: the first buy request carrying a path claims it for its uuid (OnceClaims, shared by every api
 * process) until the path expires. That same request sent again (a retry of its uuid) still passes and is
 * answered as a repeat; any other request with the path is refused.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { saleWindow, type GoodsCatalog } from './sales.ts';
import { SeckillError } from './errors.ts';
import type { AbuseLimits } from './abuse-limits.ts';
import type { OnceClaims } from './ports/once-claims.ts';

export const BUY_PATH_TTL_S = 60;

export interface BuyPaths {
  issue(userId: number, seckillGoodId: number, now: Date): { path: string; expiresAt: Date };
  /** For an unexpired path issued to this buyer for this sale: its own id and expiry; else null. */
  check(path: string | undefined, userId: number, seckillGoodId: number, now: Date): { id: string; expiresAt: Date } | null;
}

export function createBuyPaths(secret: string, ttlSeconds = BUY_PATH_TTL_S): BuyPaths {
  const mac = (userId: number, goodId: number, exp: number, nonce: string) =>
    createHmac('sha256', secret).update(`buy-path|${userId}|${goodId}|${exp}|${nonce}`).digest('base64url');
  return {
    issue(userId, seckillGoodId, now) {
      const exp = Math.floor(now.getTime() / 1000) + ttlSeconds;
      // Two paths asked for in the same second are two paths: each is used once.
      const nonce = randomBytes(12).toString('base64url');
      return { path: `${exp}.${nonce}.${mac(userId, seckillGoodId, exp, nonce)}`, expiresAt: new Date(exp * 1000) };
    },
    check(path, userId, seckillGoodId, now) {
      if (!path || path.length > 128) return null;
      const m = /^(\d{1,12})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(path);
      if (!m) return null;
      const exp = Number(m[1]);
      if (exp * 1000 <= now.getTime()) return null;
      const given = Buffer.from(m[3]!, 'latin1');
      const expected = Buffer.from(mac(userId, seckillGoodId, exp, m[2]!), 'latin1');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      return { id: `${userId}:${m[2]!}`, expiresAt: new Date(exp * 1000) };
    },
  };
}

/** A path for this buyer and sale, handed out only while the sale is open (nobody holds a way in before the start). */
export async function handOutBuyPath(
  deps: { catalog: Pick<GoodsCatalog, 'get'>; paths: BuyPaths; limits?: Pick<AbuseLimits, 'beforePath'> },
  req: { userId: number; seckillGoodId: number; ip?: string },
  now: Date,
): Promise<{ path: string; expiresAt: Date }> {
  const good = await deps.catalog.get(req.seckillGoodId);
  if (!good) throw new SeckillError('NOT_FOUND', `No seckill good ${req.seckillGoodId}.`);
  const window = saleWindow(good, now);
  if (window === 'NOT_STARTED') throw new SeckillError('NOT_STARTED', 'The sale has not started yet.');
  if (window === 'ENDED') throw new SeckillError('ENDED', 'The sale has ended.');
  // Limited like a press: a path per press is the page's way, so a script asking faster is pressing faster.
  const wait = deps.limits ? await deps.limits.beforePath(req.ip ?? '', req.userId) : 0;
  if (wait > 0) throw new SeckillError('RATE_LIMITED', 'Too many buy paths asked for; wait a moment and try again.', { details: { retryAfterSeconds: wait } });
  return deps.paths.issue(req.userId, req.seckillGoodId, now);
}

/**
 * May this buy request go on with this path? Yes for a valid path not yet used, or used by this same request
 * (its uuid sent again); no for a missing, expired, foreign path or one another request used.
 */
export async function admitWithPath(
  deps: { paths: BuyPaths; claims: OnceClaims },
  req: { path: string | undefined; userId: number; seckillGoodId: number; uuid: string },
  now: Date,
): Promise<boolean> {
  const valid = deps.paths.check(req.path, req.userId, req.seckillGoodId, now);
  if (!valid) return false;
  let holder: string;
  try {
    holder = await deps.claims.claim(`buy-path:${valid.id}`, req.uuid, valid.expiresAt);
  } catch (cause) {
    throw new SeckillError('UNAVAILABLE', 'The buy path could not be checked; try again.', { cause });
  }
  return holder === req.uuid;
}
