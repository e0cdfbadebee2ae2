// Housekeeping deletes on SQLite, a few milliseconds at a time. better-sqlite3 runs each statement on the event
// loop: one DELETE over half a million expired sessions held every listener for 16 s. In small batches, with the
// event loop free between them, requests are answered while a purge of any size runs.
import type { Db } from './db.ts';
import { retryWhileLocked } from './lock-wait.ts';

/** What one batch may hold the event loop: a request spans a few loop turns, each may wait for one batch. */
const STEP_MS = 2;
const MIN_BATCH = 10;
const MAX_BATCH = 2000;
const FIRST_BATCH = 100;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A purge of the rows of `table` that match `where` (named parameters), in batches sized to take about STEP_MS
 * each (rows cost more while their pages are cold, less once warm). `table` and `where` are constants of the
 * callers, never input. Returns a function that runs it and resolves with how many rows went.
 */
export function batchedDelete(
  db: Db,
  table: string,
  where: string,
): (params: Record<string, unknown>) => Promise<number> {
  const step = db.prepare(
    `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${where} LIMIT @limit)`,
  );
  return async (params) => {
    let total = 0;
    let limit = FIRST_BATCH;
    for (;;) {
      // Each step is one statement: after a lock error it is simply run again (earlier steps stay done).
      let ms = 0;
      const n = await retryWhileLocked(() => {
        const t0 = performance.now();
        const changes = step.run({ ...params, limit }).changes;
        ms = performance.now() - t0;
        return changes;
      });
      total += n;
      if (n < limit) return total;
      limit = Math.round(Math.min(MAX_BATCH, Math.max(MIN_BATCH, (limit * STEP_MS) / Math.max(ms, 0.1))));
      await yieldToEventLoop();
    }
  };
}
