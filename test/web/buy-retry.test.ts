import { describe, expect, it } from 'vitest';
import { ApiError } from '../../web/src/api.ts';
import { sendAgainWhileUnanswered } from '../../web/src/buy.ts';

/** A send that fails with these errors in turn, then answers 'QUEUED'. */
function sendFailing(...errors: ApiError[]) {
  const calls: number[] = [];
  const send = async () => {
    calls.push(calls.length + 1);
    const err = errors[calls.length - 1];
    if (err) throw err;
    return 'QUEUED';
  };
  return { send, calls };
}

describe('the shop page sends a buy again while the shop cannot answer', () => {
  it('unreachable, cut short (408), busy (429, after its Retry-After) and down (503) → the same request again, then its answer', async () => {
    const waits: number[] = [];
    const { send, calls } = sendFailing(
      new ApiError(0, 'NETWORK', 'failed to fetch'),
      new ApiError(408, 'INVALID_INPUT', 'did not arrive whole'),
      new ApiError(429, 'RATE_LIMITED', 'slow down', undefined, 3),
      new ApiError(503, 'UNAVAILABLE', 'down'),
    );
    expect(await sendAgainWhileUnanswered(send, async (ms) => waits.push(ms))).toBe('QUEUED');
    expect(calls).toHaveLength(5);
    expect(waits).toEqual([500, 1000, 3000, 4000]);
  });

  it('a refusal (409 SOLD_OUT, 400 INVALID_INPUT) is the answer: never sent again', async () => {
    for (const refusal of [new ApiError(409, 'SOLD_OUT', 'sold out'), new ApiError(400, 'INVALID_INPUT', 'bad')]) {
      const { send, calls } = sendFailing(refusal);
      await expect(sendAgainWhileUnanswered(send, async () => undefined)).rejects.toBe(refusal);
      expect(calls).toHaveLength(1);
    }
  });

  it('still unanswered after the last try → that failure is shown', async () => {
    const down = new ApiError(503, 'UNAVAILABLE', 'down');
    const { send, calls } = sendFailing(down, down, down);
    await expect(sendAgainWhileUnanswered(send, async () => undefined, 3)).rejects.toBe(down);
    expect(calls).toHaveLength(3);
  });
});
