/**
 * The chaos run's report as one self-contained HTML page (inline SVG, no script, no external file): buy
 * answers per second by kind, their latency, results per second, every fault drawn as a shaded band across
 * the charts, how long after each fault began the shop next served an order, and the violations found.
 */
import type { TimelineEvent } from './buyers.ts';

export interface ReportFault {
  kind: string;
  /** Milliseconds after the schedule started. */
  startMs: number;
  endMs: number;
  detail: string;
  fired: boolean;
}

export interface ReportInput {
  title: string;
  /** Epoch ms the schedule started: the charts' zero. */
  t0: number;
  timeline: readonly TimelineEvent[];
  faults: readonly ReportFault[];
  figures: Record<string, number>;
  violations: readonly string[];
  /** One line per engine that failed over: how many times, how long the takeover and the next order took. */
  failovers?: readonly string[];
}

const W = 1100;
const H = 150;
const LEFT = 70;
const BAND: Record<string, string> = { freeze: '#5b8def', kill: '#d9534f', partition: '#9b59b6', link: '#9b59b6', postgres: '#f0ad4e', redis: '#e67e22', rabbitmq: '#16a085' };
/** The engines' failovers stand out from the roles' kills and cuts. */
const FAILOVER_BAND: Record<string, string> = { 'kill-postgres-primary': '#f0ad4e', 'partition-postgres-primary': '#f0ad4e', 'kill-rabbitmq-node': '#16a085', 'partition-rabbitmq-node': '#16a085', 'kill-redis-master': '#e67e22' };

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const colourOf = (kind: string) => FAILOVER_BAND[kind] ?? BAND[kind.split('-')[0]!] ?? '#888';

/** What a buy answer says: the request took a place, was refused as documented, or the shop could not answer. */
export function classOf(answer: string): 'queued' | 'refused' | 'unanswered' {
  if (answer === '200') return 'queued';
  if (/^(409|400|403|404)/.test(answer)) return 'refused';
  return 'unanswered';
}

function perSecond<T>(events: readonly T[], at: (e: T) => number, t0: number, seconds: number): T[][] {
  const buckets: T[][] = Array.from({ length: seconds }, () => []);
  for (const e of events) {
    const s = Math.floor((at(e) - t0) / 1000);
    if (s >= 0 && s < seconds) buckets[s]!.push(e);
  }
  return buckets;
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0);

function chart(title: string, seconds: number, series: { label: string; colour: string; values: number[] }[], faults: readonly ReportFault[], unit: string): string {
  const max = series.reduce((m, s) => s.values.reduce((n, v) => Math.max(n, v), m), 1);
  const x = (s: number) => LEFT + (s / Math.max(1, seconds)) * (W - LEFT - 10);
  const y = (v: number) => H - 20 - (v / max) * (H - 40);
  const bands = faults
    .filter((f) => f.fired)
    .map((f) => {
      const x0 = x(f.startMs / 1000);
      const width = Math.max(2, x(f.endMs / 1000) - x0);
      return `<rect x="${x0.toFixed(1)}" y="10" width="${width.toFixed(1)}" height="${H - 30}" fill="${colourOf(f.kind)}" opacity="0.18"><title>${esc(f.kind)}: ${esc(f.detail)}</title></rect>`;
    })
    .join('');
  const lines = series
    .map((s) => `<polyline fill="none" stroke="${s.colour}" stroke-width="1.5" points="${s.values.map((v, i) => `${x(i + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"><title>${esc(s.label)}</title></polyline>`)
    .join('');
  const ticks = Array.from({ length: 11 }, (_, i) => Math.round((i * seconds) / 10))
    .map((s) => `<text x="${x(s).toFixed(1)}" y="${H - 5}" font-size="10" text-anchor="middle">${s}s</text>`)
    .join('');
  let at = LEFT + 10;
  const legend = series
    .map((s) => {
      const text = `<text x="${at}" y="22" font-size="11" fill="${s.colour}">■ ${esc(s.label)}</text>`;
      at += 30 + 6.5 * s.label.length;
      return text;
    })
    .join('');
  return `<h3>${esc(title)}</h3><svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}">
<line x1="${LEFT}" y1="${H - 20}" x2="${W - 10}" y2="${H - 20}" stroke="#999"/><text x="${LEFT - 5}" y="${y(max) + 4}" font-size="10" text-anchor="end">${Math.round(max)}${unit}</text>
${bands}${lines}${ticks}${legend}</svg>`;
}

export function renderReport(input: ReportInput): string {
  const { t0, timeline } = input;
  // A loop, not Math.max(...spread): a full run's timeline has more events than a call can take arguments.
  let lastMs = 0;
  for (const e of timeline) lastMs = Math.max(lastMs, e.at - t0);
  for (const f of input.faults) lastMs = Math.max(lastMs, f.endMs);
  const seconds = Math.ceil(lastMs / 1000) + 1;
  const buys = timeline.filter((e): e is Extract<TimelineEvent, { kind: 'buy' }> => e.kind === 'buy');
  const results = timeline.filter((e): e is Extract<TimelineEvent, { kind: 'result' }> => e.kind === 'result');
  const buyBuckets = perSecond(buys, (e) => e.at, t0, seconds);
  const resultBuckets = perSecond(results, (e) => e.at, t0, seconds);
  const count = <T>(buckets: T[][], keep: (e: T) => boolean) => buckets.map((b) => b.filter(keep).length);
  const latency = (q: number) => buyBuckets.map((b) => quantile(b.map((e) => e.ms).sort((p, r) => p - r), q));

  const served = buys.filter((e) => classOf(e.answer) === 'queued').map((e) => e.at - t0);
  const rows = [...input.faults]
    .sort((a, b) => a.startMs - b.startMs)
    .map((f) => {
      const next = served.find((ms) => ms >= f.startMs);
      const recovered = next === undefined ? '—' : `${((next - f.startMs) / 1000).toFixed(1)} s`;
      return `<tr><td style="color:${colourOf(f.kind)}">■</td><td>${esc(f.kind)}</td><td>${(f.startMs / 1000).toFixed(1)}</td><td>${((f.endMs - f.startMs) / 1000).toFixed(1)}</td><td>${recovered}</td><td>${f.fired ? '' : 'not fired: '}${esc(f.detail)}</td></tr>`;
    })
    .join('\n');
  const verdict = input.violations.length === 0 ? '<p class="ok">No violations.</p>' : `<p class="bad">${input.violations.length} violations:</p><ul>${input.violations.map((v) => `<li>${esc(v)}</li>`).join('')}</ul>`;
  const figures = Object.entries(input.figures).map(([k, v]) => `<span>${esc(k)} <b>${v}</b></span>`).join(' · ');

  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1150px}h3{margin:1.2em 0 .2em}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee}.ok{color:#2e7d32;font-weight:bold}.bad{color:#c62828;font-weight:bold}</style></head><body>
<h1>${esc(input.title)}</h1><p>${figures}</p>${verdict}
${input.failovers?.length ? `<h3>Failover times</h3><p>From a node's death (or its cut) to the survivor taking over, and to the next order the shop stored.</p><ul>${input.failovers.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>` : ''}
${chart('Buy answers per second', seconds, [
    { label: 'QUEUED', colour: '#2e7d32', values: count(buyBuckets, (e) => classOf(e.answer) === 'queued') },
    { label: 'refused (sold out, duplicate …)', colour: '#777', values: count(buyBuckets, (e) => classOf(e.answer) === 'refused') },
    { label: 'not answered (503, 408, timeout …)', colour: '#c62828', values: count(buyBuckets, (e) => classOf(e.answer) === 'unanswered') },
  ], input.faults, '/s')}
${chart('Buy answer latency', seconds, [
    { label: 'p50', colour: '#1565c0', values: latency(0.5) },
    { label: 'p99', colour: '#c62828', values: latency(0.99) },
  ], input.faults, ' ms')}
${chart('Results per second', seconds, [
    { label: 'SUCCESS', colour: '#2e7d32', values: count(resultBuckets, (e) => e.status === 'SUCCESS') },
    { label: 'FAIL', colour: '#ef6c00', values: count(resultBuckets, (e) => e.status === 'FAIL') },
  ], input.faults, '/s')}
<h3>Faults</h3><p>Next order served: from the fault's start to the next buy answered QUEUED.</p>
<table><tr><th></th><th>fault</th><th>start (s)</th><th>lasted (s)</th><th>next order served</th><th>what happened</th></tr>
${rows}</table></body></html>
`;
}
