import { describe, expect, it } from 'vitest';
import { migrationNameProblems, migrationNames } from './migrate.ts';

describe('migration names', () => {
  it('the shipped migrations are numbered once each (the old 005 pair excepted)', async () => {
    const names = await migrationNames();
    expect(names.length).toBeGreaterThan(5);
    expect(migrationNameProblems(names)).toEqual([]);
  });

  it('refuses two files with one number', () => {
    expect(migrationNameProblems(['001_init.sql', '006_audit.sql', '006_sms_codes.sql'])).toEqual([
      '006_audit.sql, 006_sms_codes.sql: 2 migrations numbered 006',
    ]);
  });

  it('refuses a third file joining the old 005 pair', () => {
    const names = ['005_simulated_provider.sql', '005_token_versions.sql', '005_more.sql'];
    expect(migrationNameProblems(names)).toHaveLength(1);
  });

  it('refuses a name without a three-digit number', () => {
    expect(migrationNameProblems(['7_late.sql', '008-dash.sql'])).toHaveLength(2);
  });
});
