import { describe } from 'vitest';
import { freshPgSchema, servicesAvailable } from '../../../test/support/services.ts';
import { describeAdminStores } from './admin-stores.contract.ts';

const up = await servicesAvailable('postgres');

describe.skipIf(!up)('PostgreSQL server', () => {
  describeAdminStores('PostgreSQL', () => freshPgSchema('admin'));
});
