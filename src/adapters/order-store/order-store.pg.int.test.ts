import { describe } from 'vitest';
import { freshPgSchema, servicesAvailable } from '../../../test/support/services.ts';
import { describeOrderStore } from './order-store.contract.ts';

const up = await servicesAvailable('postgres');

describe.skipIf(!up)('PostgreSQL server', () => {
  describeOrderStore('PostgreSQL', () => freshPgSchema('orders'));
});
