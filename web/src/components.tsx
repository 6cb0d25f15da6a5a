/** Small pieces shared by the pages. */
import type { ComponentChildren } from 'preact';
import type { Good } from './api.ts';
import { clock, phaseOf, soldPercent, yuan } from './format.ts';
import { useT } from './i18n.ts';

export function GoodImage({ good, class: cls }: { good: Pick<Good, 'imageUrl' | 'name'>; class?: string }) {
  if (good.imageUrl) return <img class={`good-img ${cls ?? ''}`} src={good.imageUrl} alt={good.name} loading="lazy" />;
  return (
    <div class={`good-img placeholder ${cls ?? ''}`} aria-hidden="true">
      <span>{good.name.slice(0, 1).toUpperCase()}</span>
    </div>
  );
}

export function Prices({ good, big }: { good: Good; big?: boolean }) {
  return (
    <div class={`prices ${big ? 'big' : ''}`}>
      <span class="seckill-price" data-testid="seckill-price">{yuan(good.seckillPrice)}</span>
      <s class="orig-price">{yuan(good.price)}</s>
    </div>
  );
}

/** "Starts in 09:58" / "Ends in 1d 02:03:04" / "Ended", against the server's clock. */
export function SaleClock({ good, now }: { good: Good; now: number }) {
  const t = useT();
  const start = Date.parse(good.startAt);
  const end = Date.parse(good.endAt);
  if (now >= end) return <span class="chip chip-muted" data-testid="sale-clock">{t.ended}</span>;
  if (now < start) {
    return (
      <span class="chip chip-blue" data-testid="sale-clock">
        {t.startsIn} <b class="mono">{clock(start - now, t)}</b>
      </span>
    );
  }
  return (
    <span class="chip chip-red" data-testid="sale-clock">
      {t.endsIn} <b class="mono">{clock(end - now, t)}</b>
    </span>
  );
}

export function PhaseBadge({ good, now }: { good: Good; now: number }) {
  const t = useT();
  const phase = phaseOf(good, now);
  const label = { upcoming: t.upcoming, live: t.onSale, soldout: t.soldOut, ended: t.ended }[phase];
  return <span class={`badge badge-${phase}`}>{label}</span>;
}

export function StockBar({ good }: { good: Good }) {
  const t = useT();
  const sold = soldPercent(good);
  return (
    <div class="stock">
      {sold !== null && (
        <div class="bar" role="progressbar" aria-valuenow={sold} aria-valuemin={0} aria-valuemax={100}>
          <div class="bar-fill" style={{ width: `${sold}%` }} />
        </div>
      )}
      <div class="stock-text">
        <span data-testid="stock">{good.stock > 0 ? t.left(good.stock) : t.soldOut}</span>
        {sold !== null && <span class="muted">{t.soldPercent(sold)}</span>}
      </div>
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const t = useT();
  return (
    <span class={`badge status-${status.toLowerCase()}`} data-status={status}>
      {t.status[status] ?? status}
    </span>
  );
}

export function Notice({ kind, children, testid }: { kind: 'error' | 'success' | 'info'; children: ComponentChildren; testid?: string }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid={testid}>
      {children}
    </div>
  );
}

export const Spinner = () => <span class="spinner" aria-hidden="true" />;

export function Loading() {
  const t = useT();
  return (
    <div class="loading">
      <Spinner /> {t.loading}
    </div>
  );
}
