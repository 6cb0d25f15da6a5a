import { describe, expect, it } from 'vitest';
import { createLogThrottle } from './log-throttle.ts';

describe('log throttle', () => {
  it('logs the first occurrence of a problem, stays quiet for the period, then logs with the count it stood for', () => {
    const t = createLogThrottle(5000);
    expect(t.take('db down', 0)).toEqual({ log: true, repeats: 0 });
    for (let i = 1; i <= 99; i++) expect(t.take('db down', i * 10).log).toBe(false);
    expect(t.take('cache down', 500)).toEqual({ log: true, repeats: 0 });
    expect(t.take('db down', 5000)).toEqual({ log: true, repeats: 99 });
    expect(t.take('db down', 5001).log).toBe(false);
  });
});
