/**
 * What proof-of-work costs each side, at a given difficulty (SECKILL_POW_MAX_NUMBER, default 20000):
 * the client's time to solve one puzzle in Node (ALTCHA's solver, Web Crypto SHA-256, one thread), and the
 * server's CPU time to make a puzzle and to verify a solution.
 *
 *   npx tsx bench/pow-cost.ts [maxNumber] [puzzles]
 */
import { solveChallenge } from 'altcha-lib/v1';
import { createAltchaPuzzles } from '../src/adapters/pow/altcha-puzzles.ts';

const maxNumber = Number(process.argv[2] ?? 20_000);
const count = Number(process.argv[3] ?? 30);
const puzzles = createAltchaPuzzles({ hmacKey: 'measure-key-0123456789', maxNumber, lifetimeMs: 300_000 });

type Puzzle = { algorithm: string; challenge: string; maxnumber: number; salt: string; signature: string };
const solveTimes: number[] = [];
const solutions: string[] = [];
for (let i = 0; i < count; i++) {
  const c = (await puzzles.make()) as Puzzle;
  const t0 = performance.now();
  const s = await solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
  solveTimes.push(performance.now() - t0);
  solutions.push(Buffer.from(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number: s!.number, salt: c.salt, signature: c.signature })).toString('base64'));
}

const cpuMicros = async (n: number, fn: (i: number) => Promise<unknown>) => {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
};
const rounds = 2000;
const makeCpu = await cpuMicros(rounds, () => puzzles.make());
const verifyCpu = await cpuMicros(rounds, (i) => puzzles.solved(solutions[i % solutions.length]!));

solveTimes.sort((a, b) => a - b);
const at = (q: number) => solveTimes[Math.min(solveTimes.length - 1, Math.floor(q * solveTimes.length))]!.toFixed(0);
console.log(`difficulty (maxnumber) ${maxNumber}, ${count} puzzles solved in Node ${process.version}`);
console.log(`client solve time ms: median ${at(0.5)}, p90 ${at(0.9)}, max ${at(1)}`);
console.log(`server CPU per puzzle made: ${makeCpu.toFixed(0)} µs; per solution verified: ${verifyCpu.toFixed(0)} µs (${rounds} each)`);
