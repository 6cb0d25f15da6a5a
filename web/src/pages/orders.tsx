/** My orders: state, the pay deadline, pay and cancel. */
import { useEffect, useState } from 'preact/hooks';
import { api, serverNow, type Order } from '../api.ts';
import { Loading, Notice, StatusBadge } from '../components.tsx';
import { clock, dateTime, errorText, localName, yuan } from '../format.ts';
import { useT } from '../i18n.ts';
import { Link } from '../router.tsx';
import { usePolling, useTick } from '../store.ts';

export function OrdersPage() {
  const t = useT();
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  usePolling(
    async () => {
      try {
        setOrders((await api<{ items: Order[] }>('GET', '/api/orders')).items);
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    5000,
    [version],
  );
  return (
    <main class="page narrow">
      <h1 class="page-title">{t.ordersTitle}</h1>
      {error !== null && <Notice kind="error">{errorText(error, t)}</Notice>}
      {orders === null && error === null && <Loading />}
      {orders?.length === 0 && (
        <p class="empty">
          {t.noOrders} <Link href="/">{t.navSales} →</Link>
        </p>
      )}
      <div class="order-list">
        {orders?.map((o) => <OrderCard key={o.orderNo} order={o} onChange={() => setVersion((v) => v + 1)} />)}
      </div>
    </main>
  );
}

export function OrderPage({ orderNo }: { orderNo: string }) {
  const t = useT();
  const [order, setOrder] = useState<Order | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  usePolling(
    async () => {
      try {
        setOrder(await api<Order>('GET', `/api/orders/${encodeURIComponent(orderNo)}`));
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    5000,
    [orderNo, version],
  );
  return (
    <main class="page narrow">
      <Link href="/orders" class="back">← {t.ordersTitle}</Link>
      {error !== null && !order && <Notice kind="error">{errorText(error, t)}</Notice>}
      {!order && error === null && <Loading />}
      {order && <OrderCard order={order} detailed onChange={() => setVersion((v) => v + 1)} />}
    </main>
  );
}

function OrderCard({ order, detailed, onChange }: { order: Order; detailed?: boolean; onChange(): void }) {
  const t = useT();
  const [current, setCurrent] = useState(order);
  const [busy, setBusy] = useState<'pay' | 'cancel' | null>(null);
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  useTick(1000);
  // A refreshed list replaces the local answer of pay/cancel (it refreshes right after one).
  useEffect(() => setCurrent(order), [order]);
  const o = current;
  const deadline = o.payDeadline ? Date.parse(o.payDeadline) : null;
  const left = deadline === null ? null : deadline - serverNow();

  async function act(action: 'pay' | 'cancel') {
    if (action === 'cancel' && !confirm(t.confirmCancel)) return;
    setBusy(action);
    setMessage(null);
    try {
      const updated = await api<Order>('POST', `/api/orders/${encodeURIComponent(o.orderNo)}/${action}`);
      setCurrent(updated);
      setMessage({ kind: 'success', text: action === 'pay' ? t.paidOk : t.cancelledOk });
      onChange();
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err, t, 'pay') });
      onChange();
    } finally {
      setBusy(null);
    }
  }

  return (
    <article class={`card order-card ${detailed ? 'detailed' : ''}`} data-testid="order" data-order-no={o.orderNo}>
      <div class="order-head">
        <Link href={`/goods/${o.seckillGoodId}`} class="order-name">{localName(o.goodName, t.lang)}</Link>
        <StatusBadge status={o.status} />
      </div>
      <div class="order-body">
        <div class="order-price">{yuan(o.seckillPrice)}</div>
        <dl class="facts">
          <dt>{t.orderNo}</dt>
          <dd class="mono">
            {detailed ? o.orderNo : <Link href={`/orders/${o.orderNo}`}>{o.orderNo}</Link>}
          </dd>
          <dt>{t.createdAt}</dt>
          <dd>{dateTime(o.createdAt, t.lang)}</dd>
          {o.paidAt && (
            <>
              <dt>{t.paidAt}</dt>
              <dd>{dateTime(o.paidAt, t.lang)}</dd>
            </>
          )}
          {o.closedAt && (
            <>
              <dt>{t.closedAt}</dt>
              <dd>{dateTime(o.closedAt, t.lang)}</dd>
            </>
          )}
        </dl>
      </div>
      {o.status === 'UNPAID' && (
        <div class="order-actions">
          {left !== null &&
            (left > 0 ? (
              <span class="chip chip-red" data-testid="pay-deadline">
                {t.payWithin} <b class="mono">{clock(left, t)}</b>
              </span>
            ) : (
              <span class="chip chip-muted">{t.payExpired}</span>
            ))}
          <div class="spacer" />
          <button class="btn" data-testid="cancel" disabled={busy !== null} onClick={() => act('cancel')}>
            {t.cancel}
          </button>
          <button class="btn btn-primary" data-testid="pay" disabled={busy !== null} onClick={() => act('pay')}>
            {t.pay} {yuan(o.seckillPrice)}
          </button>
        </div>
      )}
      {message && (
        <Notice kind={message.kind} testid="order-message">
          {message.text}
        </Notice>
      )}
    </article>
  );
}
