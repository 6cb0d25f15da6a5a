/** A port wrapped so that a test can count the calls made to each of its methods. */
export function counting<T extends object>(port: T): { port: T; calls: Record<string, number>; total(): number; reset(): void } {
  const calls: Record<string, number> = {};
  const wrapped = new Proxy(port, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        calls[key] = (calls[key] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    port: wrapped,
    calls,
    total: () => Object.values(calls).reduce((a, n) => a + n, 0),
    reset: () => {
      for (const key of Object.keys(calls)) delete calls[key];
    },
  };
}
