import { describe, expect, it } from 'vitest';
import { createOutageWatch } from './outage-watch.ts';

describe('outage watch', () => {
  it('healthy since the process started, then since the last outage seen', () => {
    let now = 1_000;
    const watch = createOutageWatch({ now: () => new Date(now) });
    expect(watch.healthySince()).toBe(1_000);
    now = 5_000;
    expect(watch.healthySince()).toBe(1_000);
    watch.noteOutage();
    expect(watch.healthySince()).toBe(5_000);
    now = 4_000; // a clock stepping back never moves it back
    watch.noteOutage();
    expect(watch.healthySince()).toBe(5_000);
  });
});
