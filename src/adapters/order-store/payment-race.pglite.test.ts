import { createPgliteDatabase } from '../database/pglite-database.ts';
import { describePaymentRace } from './payment-race.contract.ts';

describePaymentRace('PGlite (in memory)', async () => {
  const db = await createPgliteDatabase();
  return { db, cleanup: () => db.close() };
});
