/**
 * Phone verification: one-time codes (this port) and the text messages that carry them (sms-sender.ts).
 */

/** What a one-time code is for: opening an account, or setting a new password. */
export type CodePurpose = 'register' | 'reset';

/**
 * One-time codes, stored by (phone, purpose) as a keyed hash, never as the code itself. At most one code is
 * live per phone and purpose: a new one replaces the old.
 */
export interface PhoneCodeStore {
  /** Keep this code's hash until `expiresAt`, replacing any code of this phone and purpose (its attempts start at 0). */
  put(code: { phone: string; purpose: CodePurpose; codeHash: string; expiresAt: Date }): Promise<void>;
  /**
   * Count one verify attempt against the live code of this phone and purpose, atomically, and answer its hash
   * and id; null when there is none (never issued, expired, used, or `maxAttempts` already counted). Two
   * racing attempts count two.
   */
  takeAttempt(phone: string, purpose: CodePurpose, now: Date, maxAttempts: number): Promise<{ id: number; codeHash: string } | null>;
  /** Use the code up: true for the one caller that removed it, false if it was already gone (single use under races). */
  consume(id: number): Promise<boolean>;
}
