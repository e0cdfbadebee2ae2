// The SQLite store: one connection, prepared statements per table group, migrations applied on open.
import type { Clock } from '../../ports/clock.ts';
import { type Store, StoreBehindError } from '../../ports/store.ts';
import { sqliteApiTokens } from './api-tokens.ts';
import { sqliteAuthz } from './authz.ts';
import { ChangeSignal } from './change-signal.ts';
import { migrate, migrationState, openDatabase, servingLockWaits, trackWrites } from './db.ts';
import { retryWhileLocked, type WriteCount, waitingForLocks } from './lock-wait.ts';
import { sqliteOidcIdentities } from './oidc-identities.ts';
import { sqliteOneTimeTokens } from './one-time-tokens.ts';
import { sqliteOutbox } from './outbox.ts';
import { sqliteSecondFactors } from './second-factors.ts';
import { sqliteSessions } from './sessions.ts';
import { sqliteSigningKeys } from './signing-keys.ts';
import { sqliteThrottles } from './throttles.ts';
import { sqliteTransfer } from './transfer.ts';
import { sqliteUsers } from './users.ts';

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  clock: Clock;
  /** Apply pending migrations before building statements (serve and most commands do). */
  migrate?: boolean;
}

/** Readiness answers within about this, locked or not. */
const READY_LOCK_WAIT_MS = 1000;

export function createSqliteStore(opts: SqliteStoreOptions): Store {
  const db = openDatabase(opts.path);
  if (opts.migrate !== false) migrate(db, opts.clock.now());
  const state = migrationState(db);
  if (state.pending.length > 0) {
    // Statements are prepared against the schema, so an unmigrated store can only report its state.
    const unmigrated = (): never => {
      throw new Error('store is not migrated');
    };
    return {
      get users() {
        return unmigrated();
      },
      get apiTokens() {
        return unmigrated();
      },
      get authz() {
        return unmigrated();
      },
      get sessions() {
        return unmigrated();
      },
      get throttles() {
        return unmigrated();
      },
      get oneTimeTokens() {
        return unmigrated();
      },
      get outbox() {
        return unmigrated();
      },
      get oidcIdentities() {
        return unmigrated();
      },
      get signingKeys() {
        return unmigrated();
      },
      get secondFactors() {
        return unmigrated();
      },
      async ready() {
        throw new StoreBehindError(state.pending);
      },
      async migrationState() {
        return migrationState(db);
      },
      async migrate() {
        return migrate(db, opts.clock.now());
      },
      async close() {
        db.close();
      },
    };
  }
  servingLockWaits(db);
  // Statements are prepared below, after trackWrites: every write through them marks the version stale, and
  // counts for the lock waits (a call that already wrote is never run again).
  const changes = new ChangeSignal();
  const writes: WriteCount = { count: 0 };
  trackWrites(db, (ok) => {
    changes.wrote();
    if (ok) writes.count++;
  });
  changes.watch(opts.path);
  // Readiness writes too: a store that answers reads but refuses writes (a full disk, a lock held elsewhere,
  // a read-only file) cannot sign anyone in or out, and must not be reported ready.
  const probe = db.prepare(
    `INSERT INTO meta (key, value) VALUES ('ready_probe', ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  );
  const lockSafe = <T extends object>(part: T) => waitingForLocks(part, writes);
  return {
    users: lockSafe(sqliteUsers(db, opts.clock)),
    apiTokens: lockSafe(sqliteApiTokens(db, opts.clock)),
    authz: lockSafe(sqliteAuthz(db, opts.clock, changes)),
    sessions: lockSafe(sqliteSessions(db, opts.clock)),
    throttles: lockSafe(sqliteThrottles(db)),
    oneTimeTokens: lockSafe(sqliteOneTimeTokens(db, opts.clock)),
    outbox: lockSafe(sqliteOutbox(db, opts.clock)),
    oidcIdentities: lockSafe(sqliteOidcIdentities(db, opts.clock)),
    transfer: sqliteTransfer(db),
    signingKeys: lockSafe(sqliteSigningKeys(db)),
    secondFactors: lockSafe(sqliteSecondFactors(db)),
    async ready() {
      const s = await retryWhileLocked(() => migrationState(db), READY_LOCK_WAIT_MS);
      if (s.pending.length > 0) throw new StoreBehindError(s.pending);
      await retryWhileLocked(() => probe.run(opts.clock.now()), READY_LOCK_WAIT_MS);
    },
    // Run again on a lock like every other call: the busy handler no longer waits (one transaction each).
    async migrationState() {
      return retryWhileLocked(() => migrationState(db));
    },
    async migrate() {
      return retryWhileLocked(() => migrate(db, opts.clock.now()));
    },
    async close() {
      changes.close();
      if (db.open) db.close();
    },
  };
}
