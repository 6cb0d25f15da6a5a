import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { SERVICE_URLS, servicesAvailable } from '../../../test/support/services.ts';
import { createPgDatabase } from '../database/pg-database.ts';
import { migrate } from '../database/migrate.ts';
import { describePaymentProvider } from './payment-provider.contract.ts';
import { createLedgerPaymentProvider } from './simulated-payment-provider.ts';

const up = await servicesAvailable('postgres');

describe.skipIf(!up)('PostgreSQL server', () => {
  describePaymentProvider('the database ledger (PostgreSQL)', async () => {
    const db = await createPgDatabase({ url: SERVICE_URLS.postgres, schema: `t_pay_${randomBytes(6).toString('hex')}`, max: 8 });
    await migrate(db);
    return {
      provider: createLedgerPaymentProvider(db),
      cleanup: async () => {
        await db.dropSchema();
        await db.close();
      },
    };
  });
});
