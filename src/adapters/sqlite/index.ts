// The SQLite store: one connection, prepared statements per table group, migrations applied on open.
import type { Clock } from '../../ports/clock.ts';
import { type Store, StoreBehindError } from '../../ports/store.ts';
import { sqliteApiTokens } from './api-tokens.ts';
import { sqliteAuthz } from './authz.ts';
import { ChangeSignal } from './change-signal.ts';
import { migrate, migrationState, openDatabase, trackWrites } from './db.ts';
import { sqliteOidcIdentities } from './oidc-identities.ts';
import { sqliteOneTimeTokens } from './one-time-tokens.ts';
import { sqliteOutbox } from './outbox.ts';
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
  // Statements are prepared below, after trackWrites: every write through them marks the version stale.
  const changes = new ChangeSignal();
  trackWrites(db, () => changes.wrote());
  changes.watch(opts.path);
  const ping = db.prepare('SELECT COUNT(*) FROM schema_migrations').pluck();
  return {
    users: sqliteUsers(db, opts.clock),
    apiTokens: sqliteApiTokens(db, opts.clock),
    authz: sqliteAuthz(db, opts.clock, changes),
    sessions: sqliteSessions(db, opts.clock),
    throttles: sqliteThrottles(db),
    oneTimeTokens: sqliteOneTimeTokens(db, opts.clock),
    outbox: sqliteOutbox(db, opts.clock),
    oidcIdentities: sqliteOidcIdentities(db, opts.clock),
    transfer: sqliteTransfer(db),
    signingKeys: sqliteSigningKeys(db),
    async ready() {
      ping.get();
      const s = migrationState(db);
      if (s.pending.length > 0) throw new StoreBehindError(s.pending);
    },
    async migrationState() {
      return migrationState(db);
    },
    async migrate() {
      return migrate(db, opts.clock.now());
    },
    async close() {
      changes.close();
      if (db.open) db.close();
    },
  };
}
