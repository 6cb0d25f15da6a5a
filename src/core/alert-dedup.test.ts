import { describe, expect, it } from 'vitest';
import { dedupeAlerts } from './alert-dedup.ts';
import type { Alert } from './model.ts';

describe('alert dedup', () => {
  it('repeats of one problem within the window are dropped and counted; other problems and later repeats pass', async () => {
    let t = 0;
    const raised: Alert[] = [];
    const alerts = dedupeAlerts({ raiseAlert: async (a) => void raised.push(a) }, { now: () => new Date(t) }, { windowMs: 1000 });
    const alert = (kind: string, seckillGoodId: number): Alert => ({ kind, message: 'redis down', seckillGoodId, at: new Date(t).toISOString() });
    for (let i = 0; i < 50; i++) await alerts.raiseAlert(alert('CACHE_UPDATE_FAILED', 1));
    await alerts.raiseAlert(alert('CACHE_UPDATE_FAILED', 2));
    await alerts.raiseAlert(alert('CACHE_RESTOCK_FAILED', 1));
    expect(raised.map((a) => `${a.kind}:${a.seckillGoodId}`)).toEqual(['CACHE_UPDATE_FAILED:1', 'CACHE_UPDATE_FAILED:2', 'CACHE_RESTOCK_FAILED:1']);
    expect(alerts.dropped()).toBe(49);
    t = 1000;
    await alerts.raiseAlert(alert('CACHE_UPDATE_FAILED', 1));
    expect(raised).toHaveLength(4);
  });
});
