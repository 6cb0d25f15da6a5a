/**
 * How guessable a new password is, by zxcvbn (its estimate of the guesses an attacker needs, from common
 * passwords, words, names, keyboard walks, dates, repeats and sequences), with the account's phone and
 * nickname as words the attacker knows. A password must reach MIN_SCORE: about 10^8 guesses or more, which
 * the per-phone limit of failed logins (100 an hour) puts out of an online attacker's reach.
 */
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { SeckillError } from './errors.ts';

/** zxcvbn's score 3: "safely unguessable" (≥ 10^8 guesses). */
export const MIN_SCORE = 3;
/**
 * Only this many leading characters are estimated: the estimate's cost grows steeply with length (a
 * 128-character input took 1.6 s of event loop); a strong prefix makes the whole strong.
 */
const MAX_ESTIMATED_LENGTH = 64;

/**
 * Passwords a guessing script tries first on Chinese shops, which the English lists lack (the head of the
 * public leaked lists, and shapes made from a phone number).
 */
const LOCAL_COMMON = [
  '123456789', '1234567890', '12345678910', '87654321', '11111111', '00000000', '88888888', '66666666',
  '99999999', '11223344', '12341234', '123123123', '147258369', '1qaz2wsx', '1q2w3e4r', '1q2w3e4r5t',
  'woaini1314', '5201314520', '5201314', 'qq123456', 'aa123456', 'a1234567', 'abc12345', 'woaini520',
  'iloveyou', 'zxcvbnm1', 'qwertyui', 'wangyang', 'zhangwei', 'li123456', 'a123456789', 'qwe123456',
];

let estimator: Promise<ZxcvbnFactory> | undefined;

/**
 * Build the estimator (its dictionaries take about half a second): at start, not in the first request. Loaded
 * on first use, so a process that never sets a password (worker, result push) does not hold the dictionaries
 * (about 40 MB of resident memory).
 */
export function preparePasswordStrength(): Promise<ZxcvbnFactory> {
  estimator ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]).then(
    ([{ ZxcvbnFactory }, common, en]) =>
      new ZxcvbnFactory({
        dictionary: { ...common.dictionary, ...en.dictionary, seckillCommon: LOCAL_COMMON },
        graphs: common.adjacencyGraphs,
        translations: en.translations,
        maxLength: MAX_ESTIMATED_LENGTH,
        // The l33t matcher tries every substitution of every symbol: up to 0.6 s on a 32-character input.
        // Without it "P@ssw0rd123" still scores 2, below the minimum.
        l33tMaxSubstitutions: 0,
      }),
  );
  return estimator;
}

export interface StrengthVerdict {
  score: number;
  warning: string | null;
  suggestions: string[];
}

/** zxcvbn's score (0–4) and its feedback, the phone and nickname counting as known words. */
export async function passwordStrength(password: string, account: { phone: string; nickname?: string | undefined }): Promise<StrengthVerdict> {
  const digits = account.phone.replace(/\D/g, '');
  const inputs = [account.phone, digits.slice(-8), digits.slice(-4), ...(account.nickname ? [account.nickname] : [])];
  const { score, feedback } = (await preparePasswordStrength()).check(password, inputs);
  return { score, warning: feedback.warning, suggestions: feedback.suggestions };
}

/** INVALID_INPUT naming `field`, with the estimator's feedback, when the password is too easy to guess. */
export async function assertPasswordStrong(password: string, account: { phone: string; nickname?: string | undefined }, field = 'password'): Promise<void> {
  const verdict = await passwordStrength(password, account);
  if (verdict.score >= MIN_SCORE) return;
  const why = verdict.warning ?? 'This password is too easy to guess.';
  throw new SeckillError('INVALID_INPUT', `This password is too easy to guess; choose another. ${why}`.trim(), {
    details: {
      fields: [field],
      problems: [{ field, problem: 'too easy to guess' }],
      strength: { score: verdict.score, minimum: MIN_SCORE, warning: verdict.warning, suggestions: verdict.suggestions },
    },
  });
}
