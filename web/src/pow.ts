/**
 * Proof-of-work for shops that ask for it (SECKILL_POW): fetch a puzzle, solve it with ALTCHA's own solver
 * (Web Crypto's SHA-256, so a secure context: https, or localhost), answer the widget's payload.
 * Each solution is accepted once, so every request solves a fresh puzzle.
 */
import { solveChallenge } from 'altcha-lib/v1';
import { api, ApiError } from './api.ts';

interface Puzzle {
  algorithm: string;
  challenge: string;
  maxnumber?: number;
  salt: string;
  signature: string;
}

export async function solvePow(): Promise<string> {
  const p = await api<Puzzle>('GET', '/api/pow/challenge');
  const solution = await solveChallenge(p.challenge, p.salt, p.algorithm, p.maxnumber).promise;
  if (!solution) throw new ApiError(0, 'INTERNAL', 'the proof-of-work puzzle could not be solved');
  return btoa(JSON.stringify({ algorithm: p.algorithm, challenge: p.challenge, number: solution.number, salt: p.salt, signature: p.signature }));
}
