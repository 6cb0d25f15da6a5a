/**
 * An SMS gateway over HTTP, in the shape most of them take (Twilio, Aliyun/Tencent through a small relay,
 * in-house gateways): POST a JSON body `{"to","text"}` to one URL with an API key in a header, and a 2xx
 * answer means the gateway took the message. Anything else — another status, no answer by the deadline, a
 * refused connection — is UNAVAILABLE: the buyer is told to ask again later, and no code was lost, since
 * asking again sends a new one.
 */
import { SeckillError } from '../../core/errors.ts';
import type { SmsSender } from '../../core/ports/sms-sender.ts';

export interface HttpSmsSettings {
  url: string;
  /** The header the key goes in (`Authorization`, `X-API-Key` …) and its whole value (`Bearer …`). */
  authHeader: string;
  authValue: string | undefined;
  timeoutMs: number;
}

export function createHttpSmsSender(settings: HttpSmsSettings, fetchImpl: typeof fetch = fetch): SmsSender {
  return {
    async send({ phone, text }) {
      let status: number;
      try {
        const res = await fetchImpl(settings.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(settings.authValue ? { [settings.authHeader]: settings.authValue } : {}) },
          body: JSON.stringify({ to: phone, text }),
          signal: AbortSignal.timeout(settings.timeoutMs),
        });
        status = res.status;
        // Read (and drop) the body so the connection goes back to the pool.
        await res.arrayBuffer().catch(() => undefined);
      } catch (err) {
        throw new SeckillError('UNAVAILABLE', 'The text message could not be sent; try again shortly.', { cause: err });
      }
      if (status < 200 || status > 299) {
        throw new SeckillError('UNAVAILABLE', 'The text message could not be sent; try again shortly.', { cause: new Error(`SMS gateway answered ${status}`) });
      }
    },
  };
}
