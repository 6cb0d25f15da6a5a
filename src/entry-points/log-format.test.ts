import { describe, expect, it } from 'vitest';
import { formatLogLine } from './log-format.ts';

describe('readable log lines', () => {
  it('a JSON log line becomes time, level, component, message and its fields; plumbing fields are hidden', () => {
    const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 1, 12, 0, 0), pid: 1, roles: 'api', component: 'worker', msg: 'batch failed', batch: 500, reason: 'db down' });
    const out = formatLogLine(line, false);
    expect(out).toMatch(/^\d\d:\d\d:\d\d WARN {2}worker {5}batch failed {2}batch=500 reason="db down"\n$/);
    expect(out).not.toContain('pid');
  });

  it('a line that is not JSON passes through unchanged', () => {
    expect(formatLogLine('plain text\n', true)).toBe('plain text\n');
  });
});
