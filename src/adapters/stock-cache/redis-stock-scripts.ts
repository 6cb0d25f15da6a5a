/**
 * The Lua scripts beside this file as client commands of the Redis stock cache (each script's header states
 * its KEYS, ARGV and reply), and how their replies read as the port's answers.
 */
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { SeckillError } from '../../core/errors.ts';
import type { Reservation, ReserveOutcome } from '../../core/ports/stock-cache.ts';

/** ARGV[1] of load.lua. */
export function loadMode(onlyIfMissing: boolean, ifUnchangedFrom: number | null | undefined): string {
  if (onlyIfMissing) return 'missing';
  if (ifUnchangedFrom === undefined) return 'always';
  return `cas:${ifUnchangedFrom === null ? 'none' : ifUnchangedFrom}`;
}

const lua = (name: string): string => readFileSync(new URL(`./${name}.lua`, import.meta.url), 'utf8');
export const SCRIPTS = {
  seckillReserve: { numberOfKeys: 3, lua: lua('reserve') },
  seckillRelease: { numberOfKeys: 3, lua: lua('release') },
  seckillWithdraw: { numberOfKeys: 3, lua: lua('withdraw') },
  seckillRestock: { numberOfKeys: 2, lua: lua('restock') },
  seckillLoad: { numberOfKeys: 4, lua: lua('load') },
  seckillRead: { numberOfKeys: 2, lua: lua('read'), readOnly: true },
} as const;

/** The scripts above as client commands (ioredis defineCommand). Keys first, then ARGV. */
export interface ScriptCommands {
  seckillReserve(stock: string, buyers: string, resv: string, userId: number, uuid: string, now: number): Promise<number>;
  seckillRelease(stock: string, buyers: string, resv: string, ...uuids: string[]): Promise<number>;
  seckillWithdraw(stock: string, buyers: string, resv: string, uuid: string, userId: number, now: number): Promise<number>;
  seckillRestock(stock: string, buyers: string, extraUnits: number, ...userIds: number[]): Promise<number>;
  seckillLoad(stock: string, buyers: string, resv: string, staging: string, ...argv: (string | number)[]): Promise<number>;
  seckillRead(stock: string, resv: string): Promise<[string | null, number]>;
}
export type ScriptedClient = (Redis | Cluster) & ScriptCommands;

// reserve.lua answers one integer: >= 0 is the stock left, negatives name the refusal.
const REFUSALS: Readonly<Record<number, ReserveOutcome>> = {
  [-1]: Object.freeze({ kind: 'ALREADY_RESERVED' }),
  [-2]: Object.freeze({ kind: 'UUID_TAKEN' }),
  [-3]: Object.freeze({ kind: 'NOT_LOADED' }),
  [-4]: Object.freeze({ kind: 'DUPLICATE' }),
  [-5]: Object.freeze({ kind: 'SOLD_OUT' }),
};

export function toOutcome(code: number): ReserveOutcome {
  if (code >= 0) return { kind: 'RESERVED', stockLeft: code };
  const refusal = REFUSALS[code];
  if (!refusal) throw new SeckillError('INTERNAL', `reserve.lua answered an unknown code ${code}`);
  return refusal;
}

/** "userId:epochMs" as written by reserve.lua. */
export function parseReservation(uuid: string, value: string): Reservation {
  const colon = value.indexOf(':');
  return { uuid, userId: Number(value.slice(0, colon)), at: Number(value.slice(colon + 1)) };
}
