/**
 * One seckill attempt: make the request id, open the result socket FIRST (so the result cannot slip past),
 * POST the request, then wait for the pushed result. When the socket cannot open, or closes without a
 * frame, or stays silent too long, the result is polled instead (GET /api/seckill/results/:uuid).
 */
import { api, ApiError, type PushFrame, type SeckillResult } from './api.ts';
import { solvePow } from './pow.ts';

export type BuyState =
  | { phase: 'connecting' }
  | { phase: 'sending' }
  | { phase: 'queued'; uuid: string; via: 'ws' | 'poll' }
  | { phase: 'success'; uuid: string; orderNo: string; via: 'ws' | 'poll' }
  | { phase: 'fail'; uuid: string; reason: string; via: 'ws' | 'poll' }
  | { phase: 'error'; error: ApiError };

export interface BuyOptions {
  goodId: number;
  token: string;
  wsUrl: string | null;
  /** Ask for a buy path first and send it with the request (the shop runs with the hidden buy path on). */
  hiddenPath?: boolean;
  /** Solve a proof-of-work puzzle for each send (the shop runs with SECKILL_POW=buy or both). */
  pow?: boolean;
  onState(state: BuyState): void;
  /** How long an open socket may stay silent before polling starts too. */
  silentMs?: number;
}

/** 16 random bytes, base64url: 22 characters of [A-Za-z0-9_-] (crypto.getRandomValues works on plain http too). */
export function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The shop could not answer (unreachable, the request cut short, too busy, a dependency down): nothing was refused. */
export function worthSendingAgain(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 0 || err.status === 408 || err.status === 429 || err.status === 503);
}

/**
 * Send the same request again while the shop cannot answer, a few times with growing waits (Retry-After when
 * given). Safe for a buy: the same request id never takes a second unit, and a repeat of one the shop did take
 * finds it. Any other answer, or the last failure, is the caller's.
 */
export async function sendAgainWhileUnanswered<T>(send: () => Promise<T>, wait: (ms: number) => Promise<unknown> = sleep, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt >= tries || !worthSendingAgain(err)) throw err;
      const retryAfterS = (err as ApiError).retryAfterS;
      await wait(retryAfterS ? retryAfterS * 1000 : 500 * 2 ** (attempt - 1));
    }
  }
}

export function buy(opts: BuyOptions): { abandon(): void } {
  const uuid = newRequestId();
  let finished = false;
  let posted = false;
  let polling = false;
  let socket: WebSocket | null = null;
  let silentTimer: ReturnType<typeof setTimeout> | undefined;

  const cleanup = () => {
    clearTimeout(silentTimer);
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
  };
  const finish = (state: BuyState) => {
    if (finished) return;
    finished = true;
    cleanup();
    opts.onState(state);
  };
  const settle = (r: Pick<SeckillResult, 'status' | 'orderNo' | 'reason'>, via: 'ws' | 'poll') => {
    if (r.status === 'SUCCESS') finish({ phase: 'success', uuid, orderNo: r.orderNo ?? '', via });
    else if (r.status === 'FAIL') finish({ phase: 'fail', uuid, reason: r.reason ?? 'SOLD_OUT', via });
  };

  async function poll(): Promise<void> {
    if (polling || finished) return;
    polling = true;
    opts.onState({ phase: 'queued', uuid, via: 'poll' });
    const started = Date.now();
    let misses = 0;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `finished` is set by the socket's and the poll's callbacks meanwhile
    for (let attempt = 0; !finished; attempt++) {
      if (Date.now() - started > 120_000) { finish({ phase: 'error', error: new ApiError(0, 'TIMEOUT', 'no result yet') }); return; }
      try {
        const r = await api<SeckillResult>('GET', `/api/seckill/results/${uuid}?seckillGoodId=${opts.goodId}`);
        settle(r, 'poll');
      } catch (err) {
        const e = err as ApiError;
        // 404 right after QUEUED can only be a result not visible yet; give it a few rounds.
        if (e.code === 'UNAUTHORIZED' || (e.code === 'NOT_FOUND' && ++misses > 5)) { finish({ phase: 'error', error: e }); return; }
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `finished` is set by the socket's and the poll's callbacks meanwhile
      if (!finished) await sleep(attempt < 10 ? 1000 : 2000);
    }
  }

  function openSocket(): Promise<void> {
    if (!opts.wsUrl) return Promise.resolve();
    return new Promise((resolve) => {
      let s: WebSocket;
      try {
        s = new WebSocket(`${opts.wsUrl}/${uuid}?token=${encodeURIComponent(opts.token)}`);
      } catch {
        resolve(); return; // a malformed or blocked address: poll
      }
      socket = s;
      const give = setTimeout(() => {
        socket = null;
        s.close();
        resolve();
      }, 3000);
      s.onopen = () => {
        clearTimeout(give);
        resolve();
      };
      s.onmessage = (ev) => {
        try {
          const frame = JSON.parse(String(ev.data)) as PushFrame;
          if (frame.uuid === uuid) settle(frame, 'ws');
        } catch {
          /* not ours */
        }
      };
      s.onclose = () => {
        clearTimeout(give);
        if (socket === s) socket = null;
        resolve();
        // Closed without our frame (server restart, proxy timeout …): the result is still stored.
        if (!finished && posted) void poll();
      };
    });
  }

  void (async () => {
    opts.onState({ phase: 'connecting' });
    await openSocket();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `finished` is set by the socket's and the poll's callbacks meanwhile
    if (finished) return;
    opts.onState({ phase: 'sending' });
    let answer: SeckillResult;
    const send = async (withPath: boolean) => {
      const path = withPath ? (await api<{ path: string }>('GET', `/api/seckill/goods/${opts.goodId}/path`)).path : undefined;
      const pow = opts.pow ? await solvePow() : undefined;
      return api<SeckillResult>('POST', '/api/seckill/orders', { seckillGoodId: opts.goodId, uuid, ...(path ? { path } : {}), ...(pow ? { pow } : {}) });
    };
    try {
      // Without a path the shop takes nothing from stock, so asking again with one is safe.
      answer = await sendAgainWhileUnanswered(() =>
        send(!!opts.hiddenPath).catch((err: unknown) => {
          if (err instanceof ApiError && err.code === 'FORBIDDEN' && !opts.hiddenPath) return send(true);
          throw err;
        }),
      );
    } catch (err) {
      finish({ phase: 'error', error: err as ApiError }); return;
    }
    posted = true;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `finished` is set by the socket's and the poll's callbacks meanwhile
    if (finished) return; // the pushed frame was faster than the answer
    if (answer.status !== 'QUEUED') { settle(answer, 'poll'); return; }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `socket` is set by the socket's and the poll's callbacks meanwhile
    if (!socket) { void poll(); return; }
    opts.onState({ phase: 'queued', uuid, via: 'ws' });
    silentTimer = setTimeout(() => void poll(), opts.silentMs ?? 8000);
  })();

  return {
    abandon() {
      finished = true;
      cleanup();
    },
  };
}
