/** Log in, register (with the code texted to the phone when the shop asks for one), and reset a forgotten password. */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, clientConfig, setSession, type Session } from '../api.ts';
import { Notice, Spinner } from '../components.tsx';
import { errorText } from '../format.ts';
import { useT } from '../i18n.ts';
import { navigate } from '../router.tsx';
import { PhoneCodeField } from './phone-code.tsx';
import { solvePow } from '../pow.ts';

export type AuthMode = 'login' | 'register' | 'reset';

export function AuthPage({ mode, next }: { mode: AuthMode; next: string }) {
  const t = useT();
  const [phone, setPhone] = useState('');
  const [password, setPassword] = useState('');
  const [nickname, setNickname] = useState('');
  const [code, setCode] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [needsPow, setNeedsPow] = useState(false);
  const [resetDone, setResetDone] = useState(false);
  useEffect(() => {
    clientConfig().then((c) => {
      setNeedsCode(c.phoneVerification);
      setNeedsPow(c.pow.includes('register'));
    }, () => undefined);
  }, []);
  const withCode = mode === 'reset' || (mode === 'register' && needsCode);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const bad = (field: string) => error?.details?.fields?.includes(field) ?? false;
  // Only same-site paths: ?next= must not send a fresh session anywhere else.
  const target = next.startsWith('/') && !next.startsWith('//') ? next : '/';

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'reset') {
        await api('POST', '/api/auth/reset', { phone, code, password });
        setResetDone(true);
        navigate(`/login?next=${encodeURIComponent(target)}`, { replace: true });
        return;
      }
      const body =
        mode === 'login' ? { phone, password } : { phone, password, ...(nickname.trim() ? { nickname: nickname.trim() } : {}), ...(withCode ? { code } : {}) };
      const pow = mode === 'register' && needsPow ? await solvePow() : undefined;
      const s = await api<Session>('POST', mode === 'login' ? '/api/auth/login' : '/api/auth/register', pow ? { ...body, pow } : body);
      setSession(s);
      navigate(target, { replace: true });
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }

  const other = mode === 'register' ? 'login' : 'register';
  return (
    <main class="page narrow">
      <form class="card form auth-form" onSubmit={submit} noValidate data-testid={`${mode}-form`}>
        <div class="tabs">
          <button type="button" class={mode === 'login' ? 'tab active' : 'tab'} onClick={() => navigate(`/login?next=${encodeURIComponent(target)}`, { replace: true })}>
            {t.login}
          </button>
          <button type="button" class={mode === 'register' ? 'tab active' : 'tab'} data-testid="register-tab" onClick={() => navigate(`/register?next=${encodeURIComponent(target)}`, { replace: true })}>
            {t.register}
          </button>
        </div>
        <h1>{mode === 'login' ? t.loginTitle : mode === 'register' ? t.registerTitle : t.resetTitle}</h1>
        {resetDone && mode === 'login' && <Notice kind="success" testid="reset-done">{t.resetDone}</Notice>}
        <label class={bad('phone') ? 'field invalid' : 'field'}>
          <span>{t.phone}</span>
          <input name="phone" type="tel" inputMode="numeric" autoComplete="username" maxLength={11} value={phone} onInput={(e) => setPhone(e.currentTarget.value.trim())} required />
          <small>{t.phoneHint}</small>
        </label>
        <label class={bad('password') ? 'field invalid' : 'field'}>
          <span>{mode === 'reset' ? t.newPassword : t.password}</span>
          <input name="password" type="password" autoComplete={mode === 'login' ? 'current-password' : 'new-password'} value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
          {mode !== 'login' && error?.details?.strength !== undefined ? (
            <small data-testid="password-too-easy">{t.passwordTooEasy}</small>
          ) : (
            mode !== 'login' && <small>{t.passwordHint}</small>
          )}
        </label>
        {withCode && <PhoneCodeField phone={phone} purpose={mode === 'reset' ? 'reset' : 'register'} code={code} onCode={setCode} invalid={bad('code')} />}
        {mode === 'register' && (
          <label class={bad('nickname') ? 'field invalid' : 'field'}>
            <span>{t.nickname}</span>
            <input name="nickname" maxLength={32} value={nickname} onInput={(e) => setNickname(e.currentTarget.value)} />
          </label>
        )}
        {error && (
          <Notice kind="error" testid="form-error">
            {errorText(error, t, mode === 'login' ? 'login' : undefined)}
          </Notice>
        )}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy} data-testid="submit">
          {busy && <Spinner />} {mode === 'login' ? t.login : mode === 'register' ? t.register : t.resetSubmit}
        </button>
        {mode === 'login' && (
          <button type="button" class="link-btn" data-testid="forgot-password" onClick={() => navigate(`/reset?next=${encodeURIComponent(target)}`, { replace: true })}>
            {t.forgotPassword}
          </button>
        )}
        <button type="button" class="link-btn" onClick={() => navigate(`/${other}?next=${encodeURIComponent(target)}`, { replace: true })}>
          {other === 'register' ? t.noAccount : t.haveAccount}
        </button>
      </form>
    </main>
  );
}
