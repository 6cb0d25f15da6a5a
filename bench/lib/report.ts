/** Medians, the results table, and the SVG plot of answers per second during the burst. */

export const median = (values: readonly number[]): number => {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
};

export interface Row {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  /** Median of the per-run ratios (each against its own run's baseline). */
  ratio?: number;
  target?: string;
  met?: boolean;
  runs: number[];
}

/** One row per process: its peak RSS (VmHWM) in each run, MiB. */
export function peakRssRows(perRun: readonly Record<string, number>[]): Row[] {
  const groups = [...new Set(perRun.flatMap((r) => Object.keys(r)))].sort();
  return groups.map((g) => {
    const runs = perRun.map((r) => r[g]).filter((v): v is number => v !== undefined);
    return { scenario: 'peak RSS', metric: g, unit: 'MiB', value: median(runs), runs };
  });
}

const fmt = (x: number, unit = ''): string => {
  if (!Number.isFinite(x)) return 'n/a';
  const s = Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
  return unit ? `${s} ${unit}` : s;
};

export function renderTable(rows: readonly Row[]): string {
  const head = ['scenario', 'metric', 'median', 'runs', 'baseline (median)', 'ratio', 'target', 'met'];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    fmt(r.value, r.unit),
    r.runs.map((x) => fmt(x)).join(' / '),
    r.baseline ? `${r.baseline.name} ${fmt(r.baseline.value, r.baseline.unit)}` : '',
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export interface PlotSeries {
  label: string;
  color: string;
  /** Answers per bucket. */
  counts: readonly number[];
  bucketMs: number;
  dashed?: boolean;
}

/** A small self-contained SVG line chart: answers per second over seconds since the first request. */
export function renderPlot(title: string, subtitle: string, series: readonly PlotSeries[]): string {
  const W = 820, H = 420, L = 80, R = 20, T = 56, B = 56;
  const points = series.map((s) => s.counts.map((c, i) => ({ t: ((i + 0.5) * s.bucketMs) / 1000, v: (c * 1000) / s.bucketMs })));
  const tMax = Math.max(0.1, ...points.flat().map((p) => p.t));
  const vMaxRaw = Math.max(1, ...points.flat().map((p) => p.v));
  const step = niceStep(vMaxRaw / 5);
  const vMax = Math.ceil(vMaxRaw / step) * step;
  const tStep = niceStep(tMax / 8);
  const x = (t: number) => L + (t / tMax) * (W - L - R);
  const y = (v: number) => T + (1 - v / vMax) * (H - T - B);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${L}" y="22" font-size="15" font-weight="600">${esc(title)}</text>`,
    `<text x="${L}" y="40" fill="#555">${esc(subtitle)}</text>`,
  ];
  for (let v = 0; v <= vMax + 1e-9; v += step) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${Math.round(v).toLocaleString('en-US')}</text>`);
  }
  for (let t = 0; t <= tMax + 1e-9; t += tStep) {
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${H - B}" y2="${H - B + 4}" stroke="#555"/>`);
    out.push(`<text x="${x(t)}" y="${H - B + 18}" text-anchor="middle" fill="#555">${+t.toFixed(2)}</text>`);
  }
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#555"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 14}" text-anchor="middle" fill="#333">seconds since the first request</text>`);
  out.push(`<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle" fill="#333">answers per second</text>`);
  series.forEach((s, k) => {
    const d = points[k]!.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${d}"/>`);
    const ly = T + 8 + k * 18;
    out.push(`<line x1="${W - R - 250}" x2="${W - R - 226}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${W - R - 220}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
}
