import { describe } from 'vitest';
import { freshPgSchema, servicesAvailable } from '../../../test/support/services.ts';
import { describeUserStore } from './user-store.contract.ts';

const up = await servicesAvailable('postgres');

describe.skipIf(!up)('PostgreSQL server', () => {
  describeUserStore('PostgreSQL', () => freshPgSchema('users'));
});
