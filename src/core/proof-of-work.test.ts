import { solveChallenge } from 'altcha-lib/v1';
import { describe, expect, it } from 'vitest';
import { createMemoryLimiters } from '../adapters/limiter/flexible-limiter.ts';
import { createAltchaPuzzles } from '../adapters/pow/altcha-puzzles.ts';
import { createPowGate, type PowScope } from './proof-of-work.ts';

const settings = { hmacKey: 'pow-test-key', maxNumber: 2000, lifetimeMs: 60_000 };

async function solve(puzzles: ReturnType<typeof createAltchaPuzzles>, tamper: (p: Record<string, unknown>) => void = () => undefined): Promise<string> {
  const c = (await puzzles.make()) as { algorithm: string; challenge: string; maxnumber: number; salt: string; signature: string };
  const s = await solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
  const payload: Record<string, unknown> = { algorithm: c.algorithm, challenge: c.challenge, number: s!.number, salt: c.salt, signature: c.signature };
  tamper(payload);
  return Buffer.from(JSON.stringify(payload)).toString('base64');
}

function gate(scopes: PowScope[], lifetimeMs = settings.lifetimeMs) {
  const puzzles = createAltchaPuzzles({ ...settings, lifetimeMs });
  return { puzzles, gate: createPowGate(puzzles, createMemoryLimiters()({ name: 'pow-used', points: 1, durationSeconds: 60 }), new Set(scopes)) };
}

describe('proof-of-work gate', () => {
  it('a solved puzzle passes once; the same solution again is FORBIDDEN', async () => {
    const { puzzles, gate: g } = gate(['buy']);
    const solution = await solve(puzzles);
    await expect(g.check('buy', solution)).resolves.toBeUndefined();
    await expect(g.check('buy', solution)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('no solution, garbage, a wrong number, a forged signature, another key\'s puzzle and an expired one are FORBIDDEN', async () => {
    const { puzzles, gate: g } = gate(['register']);
    const refused = [
      undefined,
      'not base64 json',
      Buffer.from('{"signature":1}').toString('base64'),
      await solve(puzzles, (p) => (p.number = (p.number as number) + 1)),
      await solve(puzzles, (p) => (p.signature = 'f'.repeat(64))),
      await solve(createAltchaPuzzles({ ...settings, hmacKey: 'someone-else' })),
      await solve(createAltchaPuzzles({ ...settings, lifetimeMs: -2000 })),
    ];
    for (const solution of refused) await expect(g.check('register', solution)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('a scope not asked for needs nothing; the gate says which are', async () => {
    const { gate: g } = gate(['register']);
    expect([g.required('register'), g.required('buy')]).toEqual([true, false]);
    await expect(g.check('buy', undefined)).resolves.toBeUndefined();
  });
});
