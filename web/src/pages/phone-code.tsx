/**
 * The code field of register and password reset: a button that asks the shop to text a code (with the
 * wait before another), and, on a development shop whose codes stay in its outbox, the messages sent to the
 * number, so a person can read the code off the page.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, clientConfig } from '../api.ts';
import { Notice } from '../components.tsx';
import { errorText } from '../format.ts';
import { useT } from '../i18n.ts';
import type { SmsOutboxJson } from '../../../src/entry-points/http/responses.ts';

const RESEND_S = 60;

export function PhoneCodeField(props: { phone: string; purpose: 'register' | 'reset'; code: string; onCode: (c: string) => void; invalid: boolean }) {
  const t = useT();
  const [outbox, setOutbox] = useState(false);
  const [wait, setWait] = useState(0);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [messages, setMessages] = useState<SmsOutboxJson['items'] | null>(null);

  useEffect(() => {
    clientConfig().then((c) => setOutbox(c.smsOutbox), () => undefined);
  }, []);
  useEffect(() => {
    if (wait <= 0) return;
    const timer = setTimeout(() => setWait((w) => w - 1), 1000);
    return () => clearTimeout(timer);
  }, [wait]);

  async function send() {
    setError(null);
    try {
      await api('POST', '/api/auth/sms-code', { phone: props.phone, purpose: props.purpose });
      setSent(true);
      setWait(RESEND_S);
      if (outbox) setMessages((await api<SmsOutboxJson>('GET', `/api/dev/sms-outbox?phone=${encodeURIComponent(props.phone)}`)).items);
    } catch (err) {
      const e = err as ApiError;
      setError(e);
      if (e.code === 'RATE_LIMITED' && e.retryAfterS) setWait(e.retryAfterS);
    }
  }

  return (
    <>
      <label class={props.invalid ? 'field invalid' : 'field'}>
        <span>{t.code}</span>
        <div class="code-row">
          <input name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={props.code} onInput={(e) => props.onCode(e.currentTarget.value.trim())} />
          <button type="button" class="btn" data-testid="send-code" disabled={wait > 0 || !/^1\d{10}$/.test(props.phone)} onClick={() => void send()}>
            {wait > 0 ? t.resendIn(wait) : t.sendCode}
          </button>
        </div>
        <small>{t.codeHint}</small>
      </label>
      {sent && !outbox && <Notice kind="info">{t.codeSent}</Notice>}
      {error && <Notice kind="error" testid="code-error">{errorText(error, t)}</Notice>}
      {messages && (
        <div class="notice notice-info sms-outbox" data-testid="sms-outbox">
          <strong>{t.outboxTitle}</strong>
          {messages.length === 0 ? <p>{t.outboxEmpty}</p> : messages.map((m) => <p data-testid="sms-message" key={m.sentAt + m.text}>{m.text}</p>)}
        </div>
      )}
    </>
  );
}
