/**
 * Proof-of-work puzzles in ALTCHA's format (altcha-lib, its v1 challenge: find the number n ≤ maxnumber with
 * SHA-256(salt + n) = challenge, HMAC-signed, the expiry inside the signed salt). The page solves them with the
 * same library in the browser (Web Crypto), or any ALTCHA client does. The solution travels as base64 JSON
 * `{"algorithm","challenge","number","salt","signature"}`, the ALTCHA widget's payload.
 */
import { createChallenge, verifySolution } from 'altcha-lib/v1';
import type { PowPuzzles } from '../../core/ports/pow.ts';

export interface AltchaSettings {
  hmacKey: string;
  /** The largest number a puzzle may hide: the client tries half of them on average (the difficulty). */
  maxNumber: number;
  lifetimeMs: number;
}

export function createAltchaPuzzles(settings: AltchaSettings): PowPuzzles {
  return {
    make: () => createChallenge({ hmacKey: settings.hmacKey, maxnumber: settings.maxNumber, expires: new Date(Date.now() + settings.lifetimeMs) }),
    async solved(solution) {
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.from(solution, 'base64').toString('utf8'));
      } catch {
        return null;
      }
      const signature = (payload as { signature?: unknown } | null)?.signature;
      if (typeof signature !== 'string') return null;
      try {
        return (await verifySolution(payload as Parameters<typeof verifySolution>[0], settings.hmacKey, true)) ? signature : null;
      } catch {
        return null;
      }
    },
  };
}
