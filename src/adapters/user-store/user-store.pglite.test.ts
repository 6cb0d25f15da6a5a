import { createPgliteDatabase } from '../database/pglite-database.ts';
import { describeUserStore } from './user-store.contract.ts';

describeUserStore('PGlite (in memory)', async () => {
  const db = await createPgliteDatabase();
  return { db, cleanup: () => db.close() };
});
