/**
 * `npm run bench:logins` — what a login costs in CPU, scrypt (the earlier scheme) against argon2id, at
 * OWASP's parameters for each (a measure, not a test: it never fails on a time).
 *
 *   npm run bench:logins                     20 scrypt and 60 argon2id verifications, one at a time
 *   npm run bench:logins -- --count 40       40 of each
 *   npm run bench:logins -- --storm 10000 --minutes 5
 *
 * CPU time comes from process.cpuUsage (every thread of the process, the hashing pool's included), so the
 * figure holds on a machine busy with other work, where wall time would not. One verification is a login;
 * a register or a password change costs one hash, about the same.
 */
import { parseArgs } from 'node:util';
import { hashPassword, OWASP_ARGON2ID, OWASP_SCRYPT, verifyPassword, type PasswordHashParams } from '../src/core/password-hash.ts';
import { passwordStrength, preparePasswordStrength } from '../src/core/password-strength.ts';

const { values } = parseArgs({
  options: { count: { type: 'string' }, storm: { type: 'string', default: '10000' }, minutes: { type: 'string', default: '5' } },
});
const storm = Number(values.storm);
const minutes = Number(values.minutes);

interface Figure {
  scheme: string;
  cpuMs: number;
  wallMs: number;
}

async function measure(scheme: string, params: PasswordHashParams, count: number): Promise<Figure> {
  const stored = await hashPassword('Owner-tulip-4821', params);
  for (let i = 0; i < 2; i++) await verifyPassword('Owner-tulip-4821', stored);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    if (!(await verifyPassword(i % 2 ? 'Owner-tulip-4821' : 'Wrong-guess-0000', stored)) !== (i % 2 === 0)) throw new Error('verification answered wrong');
  }
  const used = process.cpuUsage(cpu);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6 / count;
  return { scheme, cpuMs: (used.user + used.system) / 1000 / count, wallMs };
}

async function strengthCost(): Promise<number> {
  await preparePasswordStrength();
  const samples = ['Owner-tulip-4821', 'qwerty12', 'lin-mei-5678', 'correct horse battery staple', '1qaz2wsx3edc4rfv', 'Zx7!kq2pLm'];
  for (const p of samples) await passwordStrength(p, { phone: '13912345678', nickname: 'buyer-5678' });
  const cpu = process.cpuUsage();
  for (let i = 0; i < 20; i++) for (const p of samples) await passwordStrength(p, { phone: '13912345678', nickname: 'buyer-5678' });
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000 / (20 * samples.length);
}

const count = values.count ? Number(values.count) : undefined;
const figures = [
  await measure('scrypt N=2^17 r=8 p=1 (128 MiB)', OWASP_SCRYPT, count ?? 20),
  await measure('argon2id m=19 MiB t=2 p=1', OWASP_ARGON2ID, count ?? 60),
];
const perSecond = (storm / (minutes * 60));
console.log(`a storm of ${storm} logins in ${minutes} min = ${perSecond.toFixed(1)} logins/s`);
console.log('scheme'.padEnd(34), 'CPU ms/login', 'wall ms/login', 'logins/s/core', `cores for the storm`);
for (const f of figures) {
  console.log(f.scheme.padEnd(34), f.cpuMs.toFixed(1).padStart(12), f.wallMs.toFixed(1).padStart(13), (1000 / f.cpuMs).toFixed(1).padStart(13), ((perSecond * f.cpuMs) / 1000).toFixed(2).padStart(19));
}
console.log(`password strength check (register, password change): ${(await strengthCost()).toFixed(1)} CPU ms, on the event loop`);
