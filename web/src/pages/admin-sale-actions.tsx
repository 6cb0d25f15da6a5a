/**
 * The admin's actions on one sale of the list: before its start, edit it; once started, end it now (asked
 * twice); until its end, pause or resume it and add units. Each answer reloads the list.
 */
import { useState } from 'preact/hooks';
import { api, ApiError, serverNow, type Good } from '../api.ts';
import { Notice, Spinner } from '../components.tsx';
import { cents, errorText, localInput, phaseOf } from '../format.ts';
import { useT } from '../i18n.ts';

export function SaleActions({ good, now, onChanged }: { good: Good; now: number; onChanged: () => void }) {
  const t = useT();
  const phase = phaseOf(good, now);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [confirmEnd, setConfirmEnd] = useState(false);
  const [units, setUnits] = useState('');
  if (phase === 'ended') return null;
  const base = `/api/admin/seckill/goods/${good.id}`;

  async function run(call: () => Promise<unknown>, message: string | null = null) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await call();
      setDone(message);
      onChanged();
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }

  function endNow() {
    if (!confirmEnd) {
      setConfirmEnd(true);
      return;
    }
    setConfirmEnd(false);
    void run(() => api('PATCH', base, { endAt: new Date(serverNow()).toISOString() }));
  }

  function restock(e: Event) {
    e.preventDefault();
    const n = units.trim() === '' ? null : Number(units);
    void run(() => api('POST', `${base}/restock`, { units: n }), t.restocked(n ?? 0)).then(() => setUnits(''));
  }

  return (
    <div class="sale-actions" data-testid="sale-actions">
      {phase === 'upcoming' ? (
        <button type="button" class="btn btn-small" data-testid="edit-sale" disabled={busy} onClick={() => setEditing(!editing)}>{t.edit}</button>
      ) : (
        <button type="button" class="btn btn-small" data-testid="end-sale" disabled={busy} onClick={endNow}>{confirmEnd ? t.confirmEnd : t.endNow}</button>
      )}
      <button
        type="button"
        class="btn btn-small"
        data-testid={good.paused ? 'resume-sale' : 'pause-sale'}
        disabled={busy}
        onClick={() => void run(() => api('POST', `${base}/${good.paused ? 'resume' : 'pause'}`))}
      >
        {good.paused ? t.resume : t.pause}
      </button>
      <form class="restock" onSubmit={restock} noValidate>
        <input name="units" inputMode="numeric" placeholder={t.restockUnits} aria-label={t.restockUnits} value={units} onInput={(e) => setUnits(e.currentTarget.value)} data-testid="restock-units" />
        <button type="submit" class="btn btn-small" disabled={busy} data-testid="restock-sale">{t.restock}</button>
      </form>
      {busy && <Spinner />}
      {editing && phase === 'upcoming' && (
        <EditSale
          good={good}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
          onCancel={() => setEditing(false)}
        />
      )}
      {done && <Notice kind="success" testid="action-done">{done}</Notice>}
      {error && <Notice kind="error" testid="action-error">{errorText(error, t)}</Notice>}
    </div>
  );
}

/** Before the start everything but the stock may change; only the fields changed are sent. */
function EditSale({ good, onSaved, onCancel }: { good: Good; onSaved: () => void; onCancel: () => void }) {
  const t = useT();
  const initial = {
    name: good.name,
    price: (good.price / 100).toFixed(2),
    seckillPrice: (good.seckillPrice / 100).toFixed(2),
    startAt: localInput(Date.parse(good.startAt)),
    endAt: localInput(Date.parse(good.endAt)),
  };
  const [form, setForm] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });

  async function save(e: Event) {
    e.preventDefault();
    const changed = (key: keyof typeof form) => form[key] !== initial[key];
    const when = (v: string) => (v ? new Date(v).toISOString() : null);
    setBusy(true);
    setError(null);
    try {
      await api<Good>('PATCH', `/api/admin/seckill/goods/${good.id}`, {
        ...(changed('name') ? { name: form.name } : {}),
        ...(changed('price') ? { price: cents(form.price) ?? null } : {}),
        ...(changed('seckillPrice') ? { seckillPrice: cents(form.seckillPrice) ?? null } : {}),
        ...(changed('startAt') ? { startAt: when(form.startAt) } : {}),
        ...(changed('endAt') ? { endAt: when(form.endAt) } : {}),
      });
      onSaved();
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }

  const invalid = (key: string) => (error?.details?.fields?.includes(key) ? 'field invalid' : 'field');
  return (
    <form class="form edit-sale" onSubmit={save} noValidate data-testid="edit-sale-form">
      <label class={invalid('name')}><span>{t.name}</span><input name="name" value={form.name} onInput={set('name')} maxLength={100} /></label>
      <div class="row">
        <label class={invalid('price')}><span>{t.priceYuan}</span><input name="price" inputMode="decimal" value={form.price} onInput={set('price')} /></label>
        <label class={invalid('seckillPrice')}><span>{t.seckillPriceYuan}</span><input name="seckillPrice" inputMode="decimal" value={form.seckillPrice} onInput={set('seckillPrice')} /></label>
      </div>
      <div class="row">
        <label class={invalid('startAt')}><span>{t.startAt}</span><input name="startAt" type="datetime-local" value={form.startAt} onInput={set('startAt')} /></label>
        <label class={invalid('endAt')}><span>{t.endAt}</span><input name="endAt" type="datetime-local" value={form.endAt} onInput={set('endAt')} /></label>
      </div>
      {error && <Notice kind="error" testid="edit-error">{errorText(error, t)}</Notice>}
      <div class="row">
        <button class="btn btn-primary btn-small" type="submit" disabled={busy} data-testid="save-edit">{busy ? <Spinner /> : t.saveEdit}</button>
        <button class="btn btn-small" type="button" onClick={onCancel}>{t.closeEdit}</button>
      </div>
    </form>
  );
}
