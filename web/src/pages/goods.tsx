/** The sale list and one sale's page with the buy button. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, clientConfig, freshToken, serverNow, sessionStore, type Good, type Order } from '../api.ts';
import { buy, type BuyState } from '../buy.ts';
import { GoodImage, Loading, Notice, PhaseBadge, Prices, SaleClock, Spinner, StockBar } from '../components.tsx';
import { dateTime, errorText, localName, phaseOf } from '../format.ts';
import { useT } from '../i18n.ts';
import { Link, navigate } from '../router.tsx';
import { useGoodsList } from '../goods-list.ts';
import { usePolling, useStore, useTick } from '../store.ts';

export function SalesPage() {
  const t = useT();
  const { goods, error } = useGoodsList(2000);
  useTick(1000);
  const now = serverNow();

  return (
    <main class="page">
      <section class="hero">
        <div>
          <h1>⚡ {t.heroTitle}</h1>
          <p>{t.heroText}</p>
        </div>
      </section>
      {error !== null && <Notice kind="error">{errorText(error, t)}</Notice>}
      {goods === null && error === null && <Loading />}
      {goods?.length === 0 && <p class="empty">{t.noSales}</p>}
      <div class="grid">
        {goods?.map((g) => (
          <Link href={`/goods/${g.id}`} class={`card good-card phase-${phaseOf(g, now)}`} data-testid="good-card" data-good-id={g.id}>
            <div class="card-media">
              <GoodImage good={g} />
              <PhaseBadge good={g} now={now} />
            </div>
            <div class="card-body">
              <h2 class="good-name">{localName(g.name, t.lang)}</h2>
              {g.title && <p class="good-title">{g.title}</p>}
              <Prices good={g} />
              <StockBar good={g} />
              <SaleClock good={g} now={now} />
            </div>
          </Link>
        ))}
      </div>
    </main>
  );
}

export function SalePage({ id }: { id: number }) {
  const t = useT();
  const session = useStore(sessionStore);
  const [good, setGood] = useState<Good | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [state, setState] = useState<BuyState | null>(null);
  const [myOrder, setMyOrder] = useState<Order | null>(null);
  const attempt = useRef<{ abandon(): void } | null>(null);
  useTick(250);
  const now = serverNow();

  const loadGood = async () => {
    try {
      setGood(await api<Good>('GET', `/api/seckill/goods/${id}`));
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  };
  usePolling(loadGood, 2000, [id]);
  // An attempt that just ended has moved the stock: show it now rather than at the next refresh.
  useEffect(() => {
    if (state && ['success', 'fail', 'error'].includes(state.phase)) void loadGood();
  }, [state?.phase]);

  // A buyer who already holds a live order for this good sees it instead of a button that can only say "duplicate".
  useEffect(() => {
    setMyOrder(null);
    if (!session) return;
    api<{ items: Order[] }>('GET', '/api/orders').then(
      (r) => setMyOrder(r.items.find((o) => o.seckillGoodId === id && (o.status === 'UNPAID' || o.status === 'PAID')) ?? null),
      () => undefined,
    );
  }, [id, session?.token, state?.phase === 'success']);

  useEffect(() => () => attempt.current?.abandon(), [id]);

  if (loadError && !good) {
    return (
      <main class="page">
        <Link href="/" class="back">{t.back}</Link>
        <Notice kind="error">{errorText(loadError, t)}</Notice>
      </main>
    );
  }
  if (!good) return <main class="page"><Loading /></main>;

  const phase = phaseOf(good, now);
  const busy = state !== null && (state.phase === 'connecting' || state.phase === 'sending' || state.phase === 'queued');

  async function onBuy() {
    if (!session) { navigate(`/login?next=/goods/${id}`); return; }
    setState({ phase: 'connecting' });
    let wsUrl: string | null = null;
    let hiddenPath = false;
    let pow: ('register' | 'buy')[] = [];
    try {
      ({ wsUrl, hiddenPath = false, pow = [] } = await clientConfig());
    } catch {
      /* no config: the result is polled, and a buy path is asked for if the shop refuses the buy without one */
    }
    // The result socket checks the token when it opens: an expired one is traded first.
    const token = await freshToken();
    if (!token) { navigate(`/login?next=/goods/${id}`); return; }
    attempt.current = buy({ goodId: id, token, wsUrl, hiddenPath, pow: pow.includes('buy'), onState: setState });
  }

  let label = t.buyNow;
  if (!session) label = t.loginToBuy;
  if (phase === 'upcoming') label = t.notStartedBtn;
  if (phase === 'ended') label = t.endedBtn;
  if (phase === 'soldout') label = t.soldOutBtn;
  const disabled = busy || phase !== 'live';

  return (
    <main class="page">
      <Link href="/" class="back">{t.back}</Link>
      <article class="detail card">
        <div class="detail-media">
          <GoodImage good={good} />
          <PhaseBadge good={good} now={now} />
        </div>
        <div class="detail-info">
          <h1 class="good-name" data-testid="good-name">{localName(good.name, t.lang)}</h1>
          {good.title && <p class="good-title">{good.title}</p>}
          <div class="price-panel">
            <div class="price-label">{t.seckillPrice}</div>
            <Prices good={good} big />
            <SaleClock good={good} now={now} />
          </div>
          <StockBar good={good} />
          <dl class="facts">
            <dt>{t.startAt}</dt>
            <dd>{dateTime(good.startAt, t.lang)}</dd>
            <dt>{t.endAt}</dt>
            <dd>{dateTime(good.endAt, t.lang)}</dd>
          </dl>
          {state?.phase === 'success' ? null : myOrder ? (
            <Notice kind="info" testid="already-ordered">
              {t.alreadyOrdered} <Link href={`/orders/${myOrder.orderNo}`}>{t.viewOrder} →</Link>
            </Notice>
          ) : (
            <button class="buy-btn" data-testid="buy" disabled={disabled} onClick={onBuy}>
              {busy ? <Spinner /> : null}
              {busy ? (state.phase === 'queued' ? `${t.queued}…` : t.buyingSending) : label}
            </button>
          )}
          <BuyProgress state={state} />
        </div>
      </article>
    </main>
  );
}

function BuyProgress({ state }: { state: BuyState | null }) {
  const t = useT();
  if (!state) return null;
  const attrs = { 'data-testid': 'buy-state', 'data-state': state.phase, ...('via' in state ? { 'data-via': state.via } : {}) };
  switch (state.phase) {
    case 'connecting':
      return <div class="progress" {...attrs}><Spinner /> {t.buyingConnecting}</div>;
    case 'sending':
      return <div class="progress" {...attrs}><Spinner /> {t.buyingSending}</div>;
    case 'queued':
      return (
        <div class="progress queued" {...attrs}>
          <span class="pulse" /> {state.via === 'ws' ? t.buyingQueued : t.buyingPolling}
        </div>
      );
    case 'success':
      return (
        <div class="result result-success" {...attrs}>
          <div class="result-icon">✓</div>
          <div>
            <strong>{t.successTitle}</strong>
            <p>{t.successText(state.orderNo)}</p>
            <Link href={`/orders/${state.orderNo}`} class="btn btn-primary" data-testid="order-link">{t.payNowLink} →</Link>
          </div>
        </div>
      );
    case 'fail':
      return (
        <div class="result result-fail" {...attrs} data-reason={state.reason}>
          <div class="result-icon">✕</div>
          <div>
            <strong>{t.failTitle}</strong>
            <p>{t.errors[state.reason] ?? t.errors.SOLD_OUT}</p>
          </div>
        </div>
      );
    case 'error':
      return (
        <div class="result result-fail" {...attrs} data-code={state.error.code}>
          <div class="result-icon">!</div>
          <div>
            <strong>{t.errorTitle}</strong>
            <p>{errorText(state.error, t)}</p>
            {state.error.code === 'UNAUTHORIZED' && <Link href="/login" class="btn">{t.login}</Link>}
          </div>
        </div>
      );
  }
}
