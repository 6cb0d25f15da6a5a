import { describe } from 'vitest';
import { freshPgSchema, servicesAvailable } from '../../../test/support/services.ts';
import { migrate } from '../database/migrate.ts';
import { describePaymentProvider } from './payment-provider.contract.ts';
import { createLedgerPaymentProvider } from './simulated-payment-provider.ts';

const up = await servicesAvailable('postgres');

describe.skipIf(!up)('PostgreSQL server', () => {
  describePaymentProvider('the database ledger (PostgreSQL)', async (now) => {
    const { db, cleanup } = await freshPgSchema('pay');
    await migrate(db);
    return { provider: createLedgerPaymentProvider(db, { now }), cleanup };
  });
});
