// Housekeeping deletes on PostgreSQL, a batch at a time.
import type { Queryable } from './tx.ts';

/** Rows per statement: a few tens of milliseconds of work, far inside the statement timeout. */
export const PURGE_BATCH = 5000;

/**
 * Deletes the rows of `table` matching `where` in batches, each its own statement: a purge of a million expired
 * sessions never runs into the statement timeout (which would roll the whole purge back, every hour, while the
 * table grows), never locks every row it deletes at once, and keeps what it did if a later batch fails. The
 * condition is checked again on each row as it is deleted, so a row that changed after the batch was chosen
 * (a throttle counter that saw a new failure) stays. `table`, `key` and `where` are constants of the callers,
 * never input. Returns how many rows went.
 */
export async function deleteInBatches(
  db: Queryable,
  table: string,
  key: string,
  where: string,
  params: unknown[],
): Promise<number> {
  // Rows another transaction holds (a sign-in charging a throttle counter) are skipped, not waited for: a purge
  // and a sign-in locking the same rows in different orders would otherwise deadlock. They go next time. (No
  // ORDER BY: on a table with a million expired rows, sorting each batch made the purge 3× slower.)
  const sql = `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${where}
      LIMIT ${PURGE_BATCH} FOR UPDATE SKIP LOCKED)
    AND (${where})`;
  let total = 0;
  for (;;) {
    const n = (await db.query(sql, params)).rowCount ?? 0;
    total += n;
    if (n < PURGE_BATCH) return total;
  }
}
