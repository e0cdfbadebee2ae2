// The PostgreSQL store: a bounded pool (db.ts), one module per table group, migrations applied on open under
// an advisory lock so instances starting together apply each once.
import type { Clock } from '../../ports/clock.ts';
import { type Store, StoreBehindError } from '../../ports/store.ts';
import { pgApiTokens } from './api-tokens.ts';
import { pgAuthz } from './authz.ts';
import { AUTHZ_CHANNEL, PgAuthzListener } from './authz-listener.ts';
import { createPool, migrate, migrationState, type PgOptions } from './db.ts';
import { pgOidcIdentities } from './oidc-identities.ts';
import { pgOneTimeTokens } from './one-time-tokens.ts';
import { pgOutbox } from './outbox.ts';
import { pgSessions } from './sessions.ts';
import { pgSigningKeys } from './signing-keys.ts';
import { pgThrottles } from './throttles.ts';
import { pgTransfer } from './transfer.ts';
import { pgUsers } from './users.ts';

export interface PostgresStoreOptions extends PgOptions {
  /** postgres:// or postgresql:// URL (`?sslmode=` as libpq reads it). */
  url: string;
  clock: Clock;
  /** Apply pending migrations on open (serve and most commands do). */
  migrate?: boolean;
  /** Told when the authz listener is lost or listening again, for the log. */
  onListenerState?: (state: 'listening' | 'lost', err?: Error) => void;
}

export async function createPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  let listener: PgAuthzListener | null = null;
  const pool = createPool(opts.url, {
    ...opts,
    // Every pool connection listens as well: a connection hears its own notification before its COMMIT
    // returns, so a sign-out or revocation made through this instance is refused by it from the very next
    // request instead of a listener round trip later.
    async onConnect(client) {
      client.on('notification', (n) => {
        if (n.channel === AUTHZ_CHANNEL) listener?.heard();
      });
      await client.query(`LISTEN ${AUTHZ_CHANNEL}`);
    },
  });
  try {
    if (opts.migrate !== false) await migrate(pool, opts.clock.now());
  } catch (err) {
    await pool.end();
    throw err;
  }
  const { clock } = opts;
  return {
    users: pgUsers(pool, clock),
    apiTokens: pgApiTokens(pool, clock),
    authz: pgAuthz(pool, clock),
    sessions: pgSessions(pool, clock),
    throttles: pgThrottles(pool),
    oneTimeTokens: pgOneTimeTokens(pool, clock),
    outbox: pgOutbox(pool, clock),
    oidcIdentities: pgOidcIdentities(pool, clock),
    transfer: pgTransfer(pool),
    signingKeys: pgSigningKeys(pool),
    authzVersions() {
      if (listener === null) {
        listener = new PgAuthzListener({ url: opts.url, onState: opts.onListenerState });
        // Until it listens the version is unknown and every request asks the store: nothing waits on this.
        listener.start().catch(() => {});
      }
      return listener;
    },
    async ready() {
      const s = await migrationState(pool);
      if (s.pending.length > 0) throw new StoreBehindError(s.pending);
    },
    migrationState: () => migrationState(pool),
    migrate: () => migrate(pool, clock.now()),
    async close() {
      await listener?.close();
      await pool.end();
    },
  };
}
