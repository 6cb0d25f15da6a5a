import { describe, expect, it } from 'vitest';
import { assertPasswordStrong, MIN_SCORE, passwordStrength } from './password-strength.ts';

const account = { phone: '13912345678', nickname: 'lin-mei' };

describe('password strength', () => {
  it('passwords a guessing script tries early are refused as INVALID_INPUT on the field, with the estimator\'s feedback', async () => {
    for (const password of ['qwerty12', '1234567a', 'aaaaaaab', '12345678', 'Password', 'PASSWORD123', 'password-123', 'P@ssw0rd123', 'qwertyuiop', 'woaini1314', 'iloveyou']) {
      await expect(assertPasswordStrong(password, account), password).rejects.toThrow(
        expect.objectContaining({
          code: 'INVALID_INPUT',
          details: expect.objectContaining({
            fields: ['password'],
            strength: expect.objectContaining({ score: expect.any(Number), minimum: MIN_SCORE, suggestions: expect.any(Array) }),
          }),
        }),
      );
    }
  });

  it('the account\'s phone and nickname count as words the attacker knows', async () => {
    for (const password of ['13912345678', 'lin-mei-5678']) {
      expect((await passwordStrength(password, account)).score, password).toBeLessThan(MIN_SCORE);
    }
    // The same passwords on an account whose phone and nickname they do not contain pass.
    const stranger = { phone: '13600000000', nickname: 'buyer' };
    expect((await passwordStrength('lin-mei-5678', stranger)).score).toBeGreaterThanOrEqual(MIN_SCORE);
  });

  it('the field named is the one given (a password change names newPassword)', async () => {
    await expect(assertPasswordStrong('12345678', account, 'newPassword')).rejects.toThrow(expect.objectContaining({ details: expect.objectContaining({ fields: ['newPassword'] }) }));
  });

  it('passwords of a few unrelated words or random characters pass', async () => {
    for (const password of ['correct horse battery', 'Zx7!kq2pLm', 'good-pass-12', 'Owner-tulip-4821', 'staple-Orbit-92']) {
      await expect(assertPasswordStrong(password, account), password).resolves.toBeUndefined();
    }
  });

  it('a long password is estimated on its first 64 characters: a weak head is refused, a strong one passes', async () => {
    await expect(assertPasswordStrong(`${'1'.repeat(64)}Zx7!kq2pLm`, account)).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    await expect(assertPasswordStrong(`correct horse battery ${'ab1!'.repeat(30)}`, account)).resolves.toBeUndefined();
  });
});
