/**
 * Schema migrations: plain .sql files in ./migrations, applied in name order, each once,
 * each in its own transaction, recorded in `schema_migrations`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Database, Queryable } from './database.ts';

export const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

async function applyOnce(tx: Queryable, engine: Database['engine'], name: string, sql: string): Promise<boolean> {
  if (engine === 'pg') {
    // Several processes may start at once against one server: the first to lock applies, the others
    // then see the file recorded. Keyed by schema so isolated test schemas do not wait on each other.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('seckill.migrate:' || current_schema()))`, []);
  }
  await tx.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       name TEXT PRIMARY KEY,
       applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
     )`,
    [],
  );
  const done = await tx.query('SELECT 1 FROM schema_migrations WHERE name = $1', [name]);
  if (done.length > 0) return false;
  await tx.query(sql);
  await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
  return true;
}

/**
 * The two files numbered 005 shipped before numbers were checked. They keep their names: migrations are
 * recorded by name, so renaming one would apply it a second time on every existing database.
 */
const SHIPPED_SHARED_NUMBERS: ReadonlySet<string> = new Set(['005_simulated_provider.sql', '005_token_versions.sql']);

/** Every migration is `NNN_name.sql` and no two share a number (except the pair above); returns the problems. */
export function migrationNameProblems(names: readonly string[]): string[] {
  const problems: string[] = [];
  const byNumber = new Map<string, string[]>();
  for (const name of names) {
    const match = /^(\d{3})_[a-z0-9_]+\.sql$/.exec(name);
    if (!match) {
      problems.push(`${name}: a migration is named NNN_words.sql`);
      continue;
    }
    byNumber.set(match[1]!, [...(byNumber.get(match[1]!) ?? []), name]);
  }
  for (const [number, files] of byNumber) {
    if (files.length > 1 && !files.every((file) => SHIPPED_SHARED_NUMBERS.has(file))) {
      problems.push(`${files.join(', ')}: ${files.length} migrations numbered ${number}`);
    }
  }
  return problems;
}

export async function migrationNames(dir: URL = MIGRATIONS_DIR): Promise<string[]> {
  return (await readdir(fileURLToPath(dir))).filter((name) => name.endsWith('.sql')).sort();
}

/** Apply the migrations not applied yet; returns the names applied by this call. */
export async function migrate(db: Database, dir: URL = MIGRATIONS_DIR): Promise<string[]> {
  const names = await migrationNames(dir);
  const applied: string[] = [];
  for (const name of names) {
    const sql = await readFile(new URL(name, dir), 'utf8');
    if (await db.transaction((tx) => applyOnce(tx, db.engine, name, sql))) applied.push(name);
  }
  return applied;
}
