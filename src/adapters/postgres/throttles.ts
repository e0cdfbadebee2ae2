// Sign-in throttles in PostgreSQL: counters survive restarts and are shared by every instance.
import type pg from 'pg';
import type { ThrottleState, ThrottleStore } from '../../ports/store.ts';
import { type ThrottleRow, toState } from '../throttle-rows.ts';
import { deleteInBatches } from './purge.ts';
import { inTransaction } from './tx.ts';

const COLUMNS = 'key, failures, last_failure_at, blocked_until';

// A placeholder so that a key never charged before has a row to lock: under read committed, SELECT … FOR UPDATE
// of a missing row locks nothing, and two first attempts would both read "none". A concurrent insert of the
// same key waits for this transaction, then does nothing. RETURNING tells which placeholders are ours.
const ENSURE = `INSERT INTO throttles (key, failures, last_failure_at, blocked_until) VALUES ($1, 0, 0, 0)
  ON CONFLICT (key) DO NOTHING RETURNING key`;
const LOCK = `SELECT ${COLUMNS} FROM throttles WHERE key = $1 FOR UPDATE`;
// An upsert, not an UPDATE: a concurrent clear() may have deleted the row between placeholder and lock.
const WRITE = `INSERT INTO throttles (key, failures, last_failure_at, blocked_until) VALUES ($1, $2, $3, $4)
  ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,
    blocked_until = excluded.blocked_until`;
const DROP = 'DELETE FROM throttles WHERE key = $1';

/**
 * Locks the rows of `keys` for the rest of the transaction and returns each one's stored state (null for
 * none: a placeholder this transaction inserted). Keys are taken one at a time in sorted order (placeholder,
 * then lock), so two transactions over overlapping keys queue instead of deadlocking.
 */
async function lockAll(
  c: pg.PoolClient,
  keys: readonly string[],
): Promise<{ states: Map<string, ThrottleState | null>; placeholders: string[] }> {
  const states = new Map<string, ThrottleState | null>();
  const placeholders: string[] = [];
  for (const key of [...new Set(keys)].sort()) {
    const ours = ((await c.query(ENSURE, [key])).rowCount ?? 0) > 0;
    if (ours) placeholders.push(key);
    const { rows } = await c.query<ThrottleRow>(LOCK, [key]);
    states.set(key, rows[0] && !ours ? toState(rows[0]) : null);
  }
  return { states, placeholders };
}

const write = (c: pg.PoolClient, key: string, s: ThrottleState) =>
  c.query(WRITE, [key, s.failures, s.lastFailureAt, s.blockedUntil]);

export function pgThrottles(pool: pg.Pool): ThrottleStore {
  return {
    async get(keys) {
      const found = new Map<string, ThrottleState>();
      if (keys.length === 0) return found;
      const { rows } = await pool.query<ThrottleRow>(`SELECT ${COLUMNS} FROM throttles WHERE key = ANY($1)`, [
        [...keys],
      ]);
      for (const row of rows) found.set(row.key, toState(row));
      return found;
    },
    async charge(charges, now) {
      if (charges.length === 0) return 0;
      // Read-check-write under row locks in one transaction: concurrent attempts on a key queue here, so a
      // burst cannot slip past the limit while earlier attempts are still being checked.
      return inTransaction(pool, async (c) => {
        const { states, placeholders } = await lockAll(
          c,
          charges.map((ch) => ch.key),
        );
        let wait = 0;
        for (const s of states.values())
          if (s && s.blockedUntil > now) wait = Math.max(wait, s.blockedUntil - now);
        if (wait > 0) {
          // Blocked: nothing changes, so the placeholders go too (a key never charged stays absent).
          for (const key of placeholders) await c.query(DROP, [key]);
          return wait;
        }
        // Each charge sees the stored counter, as in the SQLite adapter (a repeated key: the last one wins).
        for (const ch of charges) await write(c, ch.key, ch.next(states.get(ch.key) ?? null));
        return 0;
      });
    },
    async update(key, next) {
      // Same row lock as charge: read-modify-write of one counter that no concurrent change can interleave.
      return inTransaction(pool, async (c) => {
        const { states } = await lockAll(c, [key]);
        const state = next(states.get(key) ?? null);
        await write(c, key, state);
        return state;
      });
    },
    async purge(now, before) {
      return deleteInBatches(pool, 'throttles', 'key', 'blocked_until <= $1 AND last_failure_at < $2', [
        now,
        before,
      ]);
    },
    async clear(keys) {
      if (keys.length === 0) return;
      // Rows locked in key order, as charge() takes them: a clear and a charge over the same keys queue
      // instead of deadlocking (a plain DELETE … ANY locks in scan order).
      await pool.query(
        `DELETE FROM throttles WHERE key IN
           (SELECT key FROM throttles WHERE key = ANY($1) ORDER BY key FOR UPDATE)`,
        [[...keys]],
      );
    },
  };
}
