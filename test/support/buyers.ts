/** Many buyers without many scrypt registrations: users inserted straight into the store, tokens signed by the app. */
import { randomBytes } from 'node:crypto';
import type { RunningApp } from '../../src/compose.ts';

export interface Buyer {
  userId: number;
  token: string;
}

export async function makeBuyers(app: Pick<RunningApp, 'adapters' | 'signer'>, count: number): Promise<Buyer[]> {
  const prefix = 10 + (randomBytes(1)[0]! % 90); // random 2 digits, so buyers of several calls do not collide
  const buyers: Buyer[] = [];
  for (let i = 0; i < count; i++) {
    const phone = `15${prefix}${String(randomBytes(4).readUInt32BE() % 1e7).padStart(7, '0')}`;
    const user = await app.adapters.users.create({ phone, nickname: `buyer ${i}`, passwordHash: 'not-a-login', role: 'user' });
    if (!user) {
      i--; // that phone was taken: draw another
      continue;
    }
    buyers.push({ userId: user.id, token: app.signer.sign({ userId: user.id, role: 'user' }, new Date()).token });
  }
  return buyers;
}
