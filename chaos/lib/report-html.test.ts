import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from './buyers.ts';
import { classOf, renderReport, type ReportInput } from './report-html.ts';

const T0 = 1_000_000;
function input(over: Partial<ReportInput> = {}): ReportInput {
  const timeline: TimelineEvent[] = [
    { at: T0 + 500, kind: 'buy', answer: '200', ms: 12 },
    { at: T0 + 1500, kind: 'buy', answer: '503 UNAVAILABLE', ms: 900 },
    { at: T0 + 4200, kind: 'buy', answer: '200', ms: 30 },
    { at: T0 + 4300, kind: 'result', status: 'SUCCESS' },
  ];
  return {
    title: 'chaos run, seed 7',
    t0: T0,
    timeline,
    faults: [
      { kind: 'freeze-redis', startMs: 1000, endMs: 3000, detail: 'Redis frozen 2.0 s <1 process>', fired: true },
      { kind: 'lost-timeout', startMs: 3500, endMs: 3500, detail: 'nothing to act on', fired: false },
    ],
    figures: { requests: 3, queued: 2 },
    violations: [],
    ...over,
  };
}

describe('chaos report page', () => {
  it('draws three charts with a band per fault that fired, and says how long until the next order was served', () => {
    const html = renderReport(input());
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html.match(/<rect /g)).toHaveLength(3); // one fired fault, in each chart
    expect(html).toContain('<td>freeze-redis</td><td>1.0</td><td>2.0</td><td>3.2 s</td>');
    expect(html).toContain('not fired: nothing to act on');
    expect(html).toContain('No violations.');
  });

  it('lists the violations, and escapes whatever the run wrote', () => {
    const html = renderReport(input({ violations: ['request <x>: FAIL EXPIRED in a sale with units to spare'] }));
    expect(html).toContain('1 violations:');
    expect(html).toContain('request &#60;x&#62;: FAIL EXPIRED');
    expect(html).toContain('Redis frozen 2.0 s &#60;1 process&#62;');
    expect(html).not.toContain('<x>');
  });

  it('lists the failover time of each engine that failed over, and nothing when none did', () => {
    expect(renderReport(input())).not.toContain('Failover times');
    const html = renderReport(input({ failovers: ['PostgreSQL: 2 failovers; taken over after median 14.2 s, slowest 15.0 s; next order after median 15.1 s, slowest 16.0 s'] }));
    expect(html).toContain('<h3>Failover times</h3>');
    expect(html).toContain('<li>PostgreSQL: 2 failovers; taken over after median 14.2 s');
  });

  it('draws a full run\'s timeline (hundreds of thousands of events)', () => {
    const timeline: TimelineEvent[] = Array.from({ length: 300_000 }, (_, i) => ({ at: T0 + i * 10, kind: 'buy', answer: '409 SOLD_OUT', ms: 3 }));
    const html = renderReport(input({ timeline }));
    expect(html.match(/<svg /g)).toHaveLength(3);
  });

  it('sorts buy answers: 200 took a place, documented refusals were refused, the rest were not answered', () => {
    expect(['200', '409 SOLD_OUT', '400 INVALID_INPUT', '503 UNAVAILABLE', '408 INVALID_INPUT', '429 RATE_LIMITED', 'network TimeoutError'].map(classOf)).toEqual([
      'queued', 'refused', 'refused', 'unanswered', 'unanswered', 'unanswered', 'unanswered',
    ]);
  });
});
