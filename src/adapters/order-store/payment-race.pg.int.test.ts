import { describe } from 'vitest';
import { freshPgSchema, servicesAvailable } from '../../../test/support/services.ts';
import { describePaymentRace } from './payment-race.contract.ts';

const up = await servicesAvailable('postgres');

describe.skipIf(!up)('PostgreSQL server', () => {
  describePaymentRace('PostgreSQL', () => freshPgSchema('payrace'));
});
