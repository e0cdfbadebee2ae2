// Sign-in throttles in SQLite: counters survive restarts and are shared by every process on the file.
import type { ThrottleCharge, ThrottleState, ThrottleStore } from '../../ports/store.ts';
import { type ThrottleRow, toState } from '../throttle-rows.ts';
import type { Db } from './db.ts';
import { batchedDelete } from './purge.ts';

export function sqliteThrottles(db: Db): ThrottleStore {
  const get = db.prepare('SELECT key, failures, last_failure_at, blocked_until FROM throttles WHERE key = ?');
  const upsert = db.prepare(
    `INSERT INTO throttles (key, failures, last_failure_at, blocked_until) VALUES (@key, @failures, @lastFailureAt, @blockedUntil)
     ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,
       blocked_until = excluded.blocked_until`,
  );
  const del = db.prepare('DELETE FROM throttles WHERE key = ?');
  // Read-modify-write in IMMEDIATE transactions: other processes on the file wait, so no attempt is lost.
  const update = db.transaction(
    (key: string, next: (prev: ThrottleState | null) => ThrottleState): ThrottleState => {
      const row = get.get(key) as ThrottleRow | undefined;
      const state = next(row ? toState(row) : null);
      upsert.run({ key, ...state });
      return state;
    },
  );
  const charge = db.transaction((charges: readonly ThrottleCharge[], now: number): number => {
    const rows = charges.map((c) => get.get(c.key) as ThrottleRow | undefined);
    const wait = Math.max(0, ...rows.map((r) => (r && r.blocked_until > now ? r.blocked_until - now : 0)));
    if (wait > 0) return wait;
    charges.forEach((c, i) => {
      const row = rows[i];
      upsert.run({ key: c.key, ...c.next(row ? toState(row) : null) });
    });
    return 0;
  });
  const purge = batchedDelete(db, 'throttles', 'blocked_until <= @now AND last_failure_at < @before');

  const clearAll = db.transaction((keys: readonly string[]) => {
    for (const key of keys) del.run(key);
  });

  return {
    async get(keys) {
      const found = new Map<string, ThrottleState>();
      for (const key of keys) {
        const row = get.get(key) as ThrottleRow | undefined;
        if (row) found.set(key, toState(row));
      }
      return found;
    },
    async charge(charges, now) {
      return charge.immediate(charges, now);
    },
    async update(key, next) {
      return update.immediate(key, next);
    },
    async purge(now, before) {
      return purge({ now, before });
    },
    async clear(keys) {
      // One transaction: a lock met halfway never leaves some counters cleared (lock-wait.ts runs it again whole).
      clearAll(keys);
    },
  };
}
