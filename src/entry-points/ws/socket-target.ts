/** The result socket's address, `/{uuid}?token=…`, read by hand (see parseTarget). */
import { REQUEST_ID } from '../../core/formats.ts';

/**
 * `/{uuid}?token=…` → its parts; null for anything else (bad percent-encoding included: never a throw).
 * Read by hand: `new URL` per handshake was a visible share of a connect's CPU.
 */
export function parseTarget(rawUrl: string | undefined): { uuid: string; token: string } | null {
  const url = rawUrl ?? '/';
  if (url.charCodeAt(0) !== 0x2f) return null;
  const hash = url.indexOf('#');
  const end = hash < 0 ? url.length : hash;
  const q = url.indexOf('?');
  const query = q >= 0 && q < end ? q : -1;
  const rawPath = url.slice(1, query < 0 ? end : query);
  const uuid = rawPath.includes('%') ? decodeStrict(rawPath) : rawPath;
  if (uuid === null || !REQUEST_ID.test(uuid)) return null;
  return { uuid, token: query < 0 ? '' : tokenParam(url.slice(query + 1, end)) };
}

function decodeStrict(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** The first `token` parameter, decoded as a form value (`+` is a space); an undecodable one stays as sent and fails verification. */
function tokenParam(query: string): string {
  for (const pair of query.split('&')) {
    if (!pair.startsWith('token=')) continue;
    const value = pair.slice(6);
    if (!value.includes('%') && !value.includes('+')) return value;
    const spaced = value.replace(/\+/g, ' ');
    return decodeStrict(spaced) ?? spaced;
  }
  return '';
}
