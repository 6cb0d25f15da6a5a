/** A live dashboard of one sale: polls the stats every second and charts requests/s and results/s. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, serverNow, type Good, type OrderStatus, type SaleStats } from '../api.ts';
import { Loading, Notice, PhaseBadge, SaleClock } from '../components.tsx';
import { errorText, localName, yuan } from '../format.ts';
import { useT } from '../i18n.ts';
import { Link, useLocation } from '../router.tsx';
import { usePolling } from '../store.ts';

interface Sample {
  at: number;
  requestsPerS: number;
  resultsPerS: number;
}

const STATES: OrderStatus[] = ['UNPAID', 'PAID', 'CANCELLED', 'TIMEOUT', 'REFUNDED'];
const WINDOW = 60;
const ordersTotal = (s: SaleStats) => STATES.reduce((sum, k) => sum + s.orders[k], 0);

export function DashboardPage({ id }: { id: number }) {
  const t = useT();
  const { query } = useLocation();
  const [good, setGood] = useState<Good | null>(null);
  const [stats, setStats] = useState<SaleStats | null>(null);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<unknown>(null);
  const last = useRef<{ at: number; stats: SaleStats } | null>(null);

  usePolling(
    async () => {
      try {
        const [g, s] = await Promise.all([api<Good>('GET', `/api/seckill/goods/${id}`), api<SaleStats>('GET', `/api/admin/seckill/goods/${id}/stats`)]);
        const at = Date.now();
        const prev = last.current;
        if (prev) {
          // Results per second from the order count (every SUCCESS is a new order); requests from this api process's counter.
          const dt = Math.max(0.001, (at - prev.at) / 1000);
          const sample: Sample = {
            at,
            requestsPerS: Math.max(0, (s.requests - prev.stats.requests) / dt),
            resultsPerS: Math.max(0, (ordersTotal(s) - ordersTotal(prev.stats)) / dt),
          };
          setSamples((list) => [...list.slice(-(WINDOW - 1)), sample]);
        }
        last.current = { at, stats: s };
        setGood(g);
        setStats(s);
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    1000,
    [id],
  );

  const now = serverNow();
  const latest = samples[samples.length - 1];
  return (
    <main class="page">
      <Link href="/admin" class="back">← {t.adminTitle}</Link>
      {query.get('created') && <Notice kind="success" testid="created">{t.created}</Notice>}
      {error !== null && <Notice kind="error">{errorText(error, t)}</Notice>}
      {!stats && error === null && <Loading />}
      {good && stats && (
        <>
          <div class="dash-head">
            <div>
              <h1 class="page-title" data-testid="dash-name">{localName(good.name, t.lang)}</h1>
              <div class="muted">
                {yuan(good.seckillPrice)} · <Link href={`/goods/${good.id}`}>/goods/{good.id}</Link>
              </div>
            </div>
            <div class="dash-badges">
              <PhaseBadge good={good} now={now} />
              <SaleClock good={good} now={now} />
              <span class="live-dot">{t.live}</span>
            </div>
          </div>
          <div class="tiles">
            <Tile label={t.dbStock} value={stats.stock} testid="tile-stock" />
            <Tile label={t.preStock} value={stats.preStock ?? '—'} testid="tile-prestock" />
            <Tile label={t.queued} value={stats.queued} testid="tile-queued" />
            <Tile label={t.requests} value={stats.requests} testid="tile-requests" />
          </div>
          <section class="card">
            <h2>{t.ordersByState}</h2>
            <div class="state-bars">
              {STATES.map((k) => (
                <div class="state-bar" data-testid={`orders-${k}`}>
                  <span class={`badge status-${k.toLowerCase()}`}>{t.status[k]}</span>
                  <b>{stats.orders[k]}</b>
                </div>
              ))}
            </div>
          </section>
          <section class="card">
            <div class="chart-head">
              <h2>{t.chartTitle}</h2>
              <div class="legend">
                <span class="key key-req" /> {t.requestsPerSec} <b class="mono">{latest ? latest.requestsPerS.toFixed(0) : '0'}</b>
                <span class="key key-res" /> {t.resultsPerSec} <b class="mono">{latest ? latest.resultsPerS.toFixed(0) : '0'}</b>
              </div>
            </div>
            <RateChart samples={samples} />
          </section>
        </>
      )}
    </main>
  );
}

function Tile({ label, value, testid }: { label: string; value: number | string; testid: string }) {
  return (
    <div class="tile card">
      <div class="tile-label">{label}</div>
      <div class="tile-value mono" data-testid={testid}>{value}</div>
    </div>
  );
}

/** Two lines over the last minute (missing seconds count as 0); drawn at the box's real width so text keeps its size. */
function RateChart({ samples }: { samples: Sample[] }) {
  const box = useRef<HTMLDivElement>(null);
  const [W, setW] = useState(600);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setW(Math.max(200, Math.round(el.clientWidth))));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const H = 200;
  const pad = { l: 40, r: 8, t: 10, b: 22 };
  const padded: Sample[] = [...Array.from({ length: Math.max(0, WINDOW - samples.length) }, () => ({ at: 0, requestsPerS: 0, resultsPerS: 0 })), ...samples];
  const peak = Math.max(1, ...samples.map((s) => Math.max(s.requestsPerS, s.resultsPerS)));
  const step = 10 ** Math.floor(Math.log10(peak));
  // A multiple of 4, so that the quarter grid lines get whole numbers.
  const top = Math.max(4, Math.ceil(Math.ceil(peak / step) * step / 4) * 4);
  const x = (i: number) => pad.l + ((W - pad.l - pad.r) * i) / (WINDOW - 1);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / top);
  const line = (pick: (s: Sample) => number) => padded.map((s, i) => `${x(i).toFixed(1)},${y(pick(s)).toFixed(1)}`).join(' ');
  const area = (pick: (s: Sample) => number) => `${x(0)},${y(0)} ${line(pick)} ${x(WINDOW - 1)},${y(0)}`;
  const grid = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div ref={box} class="chart-box">
      <svg class="chart" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" data-testid="rate-chart" data-points={samples.length}>
        {grid.map((g) => (
          <g>
            <line x1={pad.l} x2={W - pad.r} y1={y(top * g)} y2={y(top * g)} class="grid" />
            <text x={pad.l - 6} y={y(top * g) + 4} class="axis" text-anchor="end">
              {Math.round(top * g)}
            </text>
          </g>
        ))}
        <text x={pad.l} y={H - 4} class="axis">-60 s</text>
        <text x={W - pad.r} y={H - 4} class="axis" text-anchor="end">0</text>
        <polygon points={area((s) => s.resultsPerS)} class="series-area" />
        <polyline points={line((s) => s.resultsPerS)} class="series series-res" />
        <polyline points={line((s) => s.requestsPerS)} class="series series-req" />
      </svg>
    </div>
  );
}
