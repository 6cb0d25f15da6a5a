import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { SERVICE_URLS, servicesAvailable } from '../../../test/support/services.ts';
import { createPgDatabase } from '../database/pg-database.ts';
import { describeUserStore } from './user-store.contract.ts';

const up = await servicesAvailable('postgres');

describe.skipIf(!up)('PostgreSQL server', () => {
  // A fresh schema for this file, dropped at the end: runs side by side with any other suite.
  describeUserStore('PostgreSQL', async () => {
    const db = await createPgDatabase({ url: SERVICE_URLS.postgres, schema: `t_users_${randomBytes(6).toString('hex')}`, max: 8 });
    return {
      db,
      cleanup: async () => {
        await db.dropSchema();
        await db.close();
      },
    };
  });
});
