/**
 * Human-readable log lines for a terminal: `20:41:07 INFO  worker  batch decided  batch=500 created=500`.
 * JSON lines stay the default when output goes to a file or a collector (LOG_FORMAT=json).
 */
import { isatty } from 'node:tty';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'roles', 'component', 'msg']);

function value(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v && typeof v === 'object' && 'message' in v) return JSON.stringify((v).message);
  return JSON.stringify(v);
}

export function formatLogLine(line: string, color: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = Number(entry.level);
  const time = new Date(Number(entry.time)).toTimeString().slice(0, 8);
  const tag = LEVELS[level] ?? String(level);
  const fields = Object.entries(entry)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  const head = color ? `\x1b[${COLORS[level] ?? '0'}m${tag}\x1b[0m` : tag;
  const component = entry.component ? `${value(entry.component).padEnd(10)} ` : '';
  const msg = typeof entry.msg === 'string' ? entry.msg : entry.msg === undefined ? '' : value(entry.msg);
  return `${time} ${head} ${component}${msg}${fields ? `  ${fields}` : ''}\n`;
}

/** A pino destination that writes readable lines to stdout's sink (colored on a terminal). */
export function prettyStdout(sink: { write(text: string): void }) {
  const color = isatty(1);
  return { write: (line: string) => { sink.write(formatLogLine(line, color)); } };
}
