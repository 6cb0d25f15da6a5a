import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { untilUp } from './until-up.ts';

const logger = pino({ level: 'silent' });

describe('untilUp', () => {
  it('tries again after failures it may wait out, and answers the first success', async () => {
    let calls = 0;
    const value = await untilUp('thing', async () => (++calls < 3 ? Promise.reject(new Error('down')) : 'up'), { logger, deadlineMs: 5000, firstDelayMs: 1 });
    expect(value).toBe('up');
    expect(calls).toBe(3);
  });

  it('throws at once a failure isPermanent names (a bug is not an outage)', async () => {
    let calls = 0;
    const bug = new TypeError('bug');
    await expect(untilUp('thing', async () => (++calls, Promise.reject(bug)), { logger, deadlineMs: 5000, firstDelayMs: 1, isPermanent: (e) => e instanceof TypeError })).rejects.toBe(bug);
    expect(calls).toBe(1);
  });

  it('gives up with the last error once the deadline would pass', async () => {
    let calls = 0;
    await expect(untilUp('thing', async () => Promise.reject(new Error(`down ${++calls}`)), { logger, deadlineMs: 30, firstDelayMs: 10, maxDelayMs: 10 })).rejects.toThrow(/down \d/);
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
