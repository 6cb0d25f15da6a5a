/** A buyer's view of the shop: HTTP calls with a deadline, where a refused connection or a timeout is an answer too. */
export type Answer =
  | { kind: 'http'; status: number; body: Record<string, unknown>; code?: string }
  | { kind: 'network'; error: string };

export interface ShopClient {
  call(method: 'GET' | 'POST', path: string, opts?: { token?: string; body?: unknown; base?: string; timeoutMs?: number }): Promise<Answer>;
}

export function shopClient(apiBases: readonly string[], pick: () => number, timeoutMs = 10_000): ShopClient {
  return {
    async call(method, path, opts = {}) {
      const base = opts.base ?? apiBases[pick() % apiBases.length]!;
      try {
        const res = await fetch(base + path, {
          method,
          headers: {
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          },
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
          signal: AbortSignal.timeout(opts.timeoutMs ?? timeoutMs),
        });
        const text = await res.text();
        let body: Record<string, unknown> = {};
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = { raw: text.slice(0, 200) };
        }
        const code = (body.error as { code?: string } | undefined)?.code;
        return { kind: 'http', status: res.status, body, ...(code ? { code } : {}) };
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        return { kind: 'network', error: e.cause?.code ?? e.name ?? 'error' };
      }
    },
  };
}

export function describeAnswer(a: Answer): string {
  return a.kind === 'network' ? `network ${a.error}` : `${a.status}${a.code ? ` ${a.code}` : ''}`;
}

/** Worth another try with the same request: the shop could not answer (down, restarting, overloaded). */
export function retryable(a: Answer): boolean {
  return a.kind === 'network' || a.status >= 500 || a.status === 408 || a.status === 429;
}
