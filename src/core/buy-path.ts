/**
 * The hidden buy path: a short-lived token for one buyer and one sale, handed out once the sale has started,
 * that the buy request must carry when the hidden path is on. A script cannot press before the sale opens
 * or reuse another buyer's path; it must ask for its own (a request that is counted and limited like any).
 *
 * `expiry.mac`, where mac = HMAC-SHA256(secret, "buy-path|user|good|expiry"): checked with no I/O.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { saleWindow, type GoodsCatalog } from './sales.ts';
import { SeckillError } from './errors.ts';

export const BUY_PATH_TTL_S = 60;

export interface BuyPaths {
  issue(userId: number, seckillGoodId: number, now: Date): { path: string; expiresAt: Date };
  /** True for an unexpired path issued to this buyer for this sale. */
  check(path: string | undefined, userId: number, seckillGoodId: number, now: Date): boolean;
}

export function createBuyPaths(secret: string, ttlSeconds = BUY_PATH_TTL_S): BuyPaths {
  const mac = (userId: number, goodId: number, exp: number) =>
    createHmac('sha256', secret).update(`buy-path|${userId}|${goodId}|${exp}`).digest('base64url');
  return {
    issue(userId, seckillGoodId, now) {
      const exp = Math.floor(now.getTime() / 1000) + ttlSeconds;
      return { path: `${exp}.${mac(userId, seckillGoodId, exp)}`, expiresAt: new Date(exp * 1000) };
    },
    check(path, userId, seckillGoodId, now) {
      if (!path || path.length > 128) return false;
      const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(path);
      if (!m) return false;
      const exp = Number(m[1]);
      if (exp * 1000 <= now.getTime()) return false;
      const given = Buffer.from(m[2]!, 'latin1');
      const expected = Buffer.from(mac(userId, seckillGoodId, exp), 'latin1');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

/** A path for this buyer and sale, handed out only while the sale is open (nobody holds a way in before the start). */
export async function handOutBuyPath(
  deps: { catalog: Pick<GoodsCatalog, 'get'>; paths: BuyPaths },
  userId: number,
  seckillGoodId: number,
  now: Date,
): Promise<{ path: string; expiresAt: Date }> {
  const good = await deps.catalog.get(seckillGoodId);
  if (!good) throw new SeckillError('NOT_FOUND', `No seckill good ${seckillGoodId}.`);
  const window = saleWindow(good, now);
  if (window === 'NOT_STARTED') throw new SeckillError('NOT_STARTED', 'The sale has not started yet.');
  if (window === 'ENDED') throw new SeckillError('ENDED', 'The sale has ended.');
  return deps.paths.issue(userId, seckillGoodId, now);
}
