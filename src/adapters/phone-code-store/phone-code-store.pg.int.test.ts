import { describe } from 'vitest';
import { freshPgSchema, servicesAvailable } from '../../../test/support/services.ts';
import { describePhoneCodeStore } from './phone-code-store.contract.ts';

const up = await servicesAvailable('postgres');

describe.skipIf(!up)('PostgreSQL server', () => {
  describePhoneCodeStore('PostgreSQL', () => freshPgSchema('codes'));
});
