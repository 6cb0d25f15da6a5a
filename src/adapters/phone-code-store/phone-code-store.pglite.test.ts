import { createPgliteDatabase } from '../database/pglite-database.ts';
import { describePhoneCodeStore } from './phone-code-store.contract.ts';

describePhoneCodeStore('PGlite (in memory)', async () => {
  const db = await createPgliteDatabase();
  return { db, cleanup: () => db.close() };
});
