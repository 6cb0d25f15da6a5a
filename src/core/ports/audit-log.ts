import type { AuditEntry, AuditRecord } from '../model.ts';

/**
 * What admins did, append-only: nothing can change or remove an entry once written (the database refuses).
 * An action that writes to the database records its entry inside that write's transaction instead (the store
 * methods that take `audit`); `record` is for actions that are not a database write (a queue replay).
 */
export interface AuditLog {
  /** Write one entry in a transaction of its own. */
  record(entry: AuditEntry): Promise<AuditRecord>;
  /** Entries newest first, those older than the entry `before` (an id from a previous page), at most `limit`. */
  list(page: { before?: number; limit: number }): Promise<AuditRecord[]>;
}
