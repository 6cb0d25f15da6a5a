/**
 * Admin tools for customer service and finance: find orders and refund a paid one, download a sale's orders as
 * CSV, and read what admins did (the audit log). Lists page with the api's cursors ("More" loads the next page).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, sessionStore, type AdminOrder, type AuditEntry, type Order } from '../api.ts';
import { Notice, Spinner, StatusBadge } from '../components.tsx';
import { dateTime, errorText, localName, yuan } from '../format.ts';
import { useT } from '../i18n.ts';

const STATUSES = ['', 'UNPAID', 'PAID', 'CANCELLED', 'TIMEOUT', 'REFUNDED'] as const;

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A button that downloads the sale's orders.csv (the api needs the bearer token, so a plain link cannot). */
export function ExportCsvButton({ goodId }: { goodId: number }) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  async function download() {
    setBusy(true);
    setFailed(false);
    try {
      const token = sessionStore.get()?.token;
      const res = await fetch(`/api/admin/seckill/goods/${goodId}/orders.csv`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      if (!res.ok) throw new Error(`export ${res.status}`);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `sale-${goodId}-orders.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch {
      setFailed(true);
    } finally {
      setBusy(false);
    }
  }
  return (
    <button type="button" class={failed ? 'btn btn-small btn-danger' : 'btn btn-small'} onClick={download} disabled={busy} data-testid="export-csv" title={failed ? t.exportFailed : t.exportCsvHint}>
      {busy ? <Spinner /> : failed ? t.exportFailed : t.exportCsv}
    </button>
  );
}

export function OrderSearch() {
  const t = useT();
  const [form, setForm] = useState({ phone: '', orderNo: '', seckillGoodId: '', status: '' });
  const [page, setPage] = useState<Page<AdminOrder> | null>(null);
  const [query, setQuery] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value.trim() });

  async function load(q: string, cursor: string | null) {
    setBusy(true);
    setError(null);
    try {
      const next = await api<Page<AdminOrder>>('GET', `/api/admin/orders?${q}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      setPage((prev) => (cursor && prev ? { items: [...prev.items, ...next.items], nextCursor: next.nextCursor } : next));
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }

  function search(e: Event) {
    e.preventDefault();
    setNotice(null);
    const q = new URLSearchParams(Object.entries(form).filter(([, v]) => v !== '')).toString() + '&limit=20';
    setQuery(q);
    void load(q, null);
  }

  async function refund(o: AdminOrder) {
    if (!confirm(t.confirmRefund(o.orderNo, yuan(o.seckillPrice)))) return;
    setError(null);
    setNotice(null);
    try {
      const done = await api<Order>('POST', `/api/admin/orders/${o.orderNo}/refund`);
      setPage((prev) => prev && { ...prev, items: prev.items.map((x) => (x.orderNo === o.orderNo ? { ...x, ...done } : x)) });
      setNotice(t.refundedOk(o.orderNo));
    } catch (err) {
      setError(err as ApiError);
    }
  }

  return (
    <section class="card admin-orders" data-testid="order-search">
      <h2>{t.orderSearch}</h2>
      <form class="search-form" onSubmit={search}>
        <input name="phone" inputMode="numeric" placeholder={t.phone} value={form.phone} onInput={set('phone')} />
        <input name="orderNo" placeholder={t.orderNo} value={form.orderNo} onInput={set('orderNo')} />
        <input name="seckillGoodId" inputMode="numeric" placeholder={t.saleId} value={form.seckillGoodId} onInput={set('seckillGoodId')} />
        <select name="status" value={form.status} onChange={set('status')}>
          {STATUSES.map((s) => <option value={s}>{s ? t.status[s] : t.anyStatus}</option>)}
        </select>
        <button class="btn btn-primary" type="submit" disabled={busy} data-testid="search-orders">{t.search}</button>
      </form>
      {error && <Notice kind="error" testid="search-error">{errorText(error, t)}</Notice>}
      {notice && <Notice kind="success" testid="refund-notice">{notice}</Notice>}
      {page && page.items.length === 0 && <p class="muted" data-testid="no-orders-found">{t.noOrdersFound}</p>}
      {page && page.items.length > 0 && (
        <table class="admin-table">
          <thead>
            <tr><th>{t.orderNo}</th><th>{t.phone}</th><th>{t.goodCol}</th><th>{t.amount}</th><th>{t.statusCol}</th><th>{t.createdAt}</th><th /></tr>
          </thead>
          <tbody>
            {page.items.map((o) => (
              <tr data-testid="found-order" data-order-no={o.orderNo}>
                <td class="mono">{o.orderNo}</td>
                <td>{o.phone}</td>
                <td>{localName(o.goodName, t.lang)}</td>
                <td>{yuan(o.seckillPrice)}</td>
                <td><StatusBadge status={o.status} /></td>
                <td class="small">{dateTime(o.createdAt, t.lang)}</td>
                <td>{o.status === 'PAID' && <button type="button" class="btn btn-small btn-danger" onClick={() => void refund(o)} data-testid="refund">{t.refund}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.nextCursor && (
        <button type="button" class="btn btn-small" disabled={busy} onClick={() => void load(query, page.nextCursor)} data-testid="more-orders">{t.more}</button>
      )}
    </section>
  );
}

export function AuditList() {
  const t = useT();
  const [page, setPage] = useState<Page<AuditEntry> | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  async function load(cursor: string | null) {
    setBusy(true);
    try {
      const next = await api<Page<AuditEntry>>('GET', `/api/admin/audit?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      setPage((prev) => (cursor && prev ? { items: [...prev.items, ...next.items], nextCursor: next.nextCursor } : next));
      setError(null);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => void load(null), []);
  return (
    <section class="card admin-audit" data-testid="audit-list">
      <div class="order-head">
        <h2>{t.auditTitle}</h2>
        <button type="button" class="btn btn-small" disabled={busy} onClick={() => void load(null)} data-testid="audit-refresh">{t.refresh}</button>
      </div>
      {error && <Notice kind="error">{errorText(error, t)}</Notice>}
      {page && page.items.length === 0 && <p class="muted">{t.auditEmpty}</p>}
      <ul class="audit-rows">
        {page?.items.map((a) => (
          <li data-testid="audit-entry" data-action={a.action}>
            <span class="small muted">{dateTime(a.at, t.lang)}</span>
            <b>{t.auditActions[a.action] ?? a.action}</b>
            <span class="mono">{a.target}</span>
            <span class="small muted">{t.auditBy(a.adminId, a.address)}</span>
          </li>
        ))}
      </ul>
      {page?.nextCursor && <button type="button" class="btn btn-small" disabled={busy} onClick={() => void load(page.nextCursor)} data-testid="more-audit">{t.more}</button>}
    </section>
  );
}
