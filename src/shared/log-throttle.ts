/**
 * One log line per problem and period, however many requests meet it: an outage that turns 10,000 requests
 * into 503 in a few seconds is one readable line (with how many it stood for), not 10,000.
 */
export interface LogThrottle {
  /** Whether to log this occurrence; when yes, `repeats` is how many earlier ones went unlogged. */
  take(key: string, now?: number): { log: boolean; repeats: number };
}

export function createLogThrottle(periodMs = 5000, maxKeys = 1000): LogThrottle {
  const seen = new Map<string, { at: number; repeats: number }>();
  return {
    take(key, now = Date.now()) {
      const entry = seen.get(key);
      if (entry && now - entry.at < periodMs) {
        entry.repeats++;
        return { log: false, repeats: 0 };
      }
      if (!entry && seen.size >= maxKeys) seen.clear();
      const repeats = entry?.repeats ?? 0;
      seen.set(key, { at: now, repeats: 0 });
      return { log: true, repeats };
    },
  };
}
