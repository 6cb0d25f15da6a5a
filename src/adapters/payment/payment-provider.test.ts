import { createPgliteDatabase } from '../database/pglite-database.ts';
import { migrate } from '../database/migrate.ts';
import { describePaymentProvider } from './payment-provider.contract.ts';
import { createLedgerPaymentProvider, createSimulatedPaymentProvider } from './simulated-payment-provider.ts';

describePaymentProvider('process memory', async (now) => ({ provider: createSimulatedPaymentProvider({ now }), cleanup: async () => undefined }));

describePaymentProvider('the database ledger (PGlite)', async (now) => {
  const db = await createPgliteDatabase();
  await migrate(db);
  return { provider: createLedgerPaymentProvider(db, { now }), cleanup: () => db.close() };
});
