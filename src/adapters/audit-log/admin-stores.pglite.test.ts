import { createPgliteDatabase } from '../database/pglite-database.ts';
import { describeAdminStores } from './admin-stores.contract.ts';

// One in-memory PGlite for the whole file: its cold start costs seconds and much memory.
describeAdminStores('PGlite (in memory)', async () => {
  const db = await createPgliteDatabase();
  return { db, cleanup: () => db.close() };
});
