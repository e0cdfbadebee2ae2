// The PostgreSQL store: a bounded pool (db.ts), one module per table group, migrations applied on open under
// an advisory lock so instances starting together apply each once.
import type { Clock } from '../../ports/clock.ts';
import { type Store, StoreBehindError } from '../../ports/store.ts';
import { pgApiTokens } from './api-tokens.ts';
import { pgAuthz } from './authz.ts';
import { AUTHZ_CHANNEL, PgAuthzListener } from './authz-listener.ts';
import { createPool, migrate, migrationState, type PgOptions } from './db.ts';
import { namingFaults, pgFault } from './faults.ts';
import { pgOidcIdentities } from './oidc-identities.ts';
import { pgOneTimeTokens } from './one-time-tokens.ts';
import { pgOutbox } from './outbox.ts';
import { pgSecondFactors } from './second-factors.ts';
import { pgSessions } from './sessions.ts';
import { pgSigningKeys } from './signing-keys.ts';
import { pgThrottles } from './throttles.ts';
import { pgTransfer } from './transfer.ts';
import { inTransaction } from './tx.ts';
import { pgUsers } from './users.ts';

/** Readiness answers within about this, however slow the database: its statements get no longer. */
const READY_STATEMENT_TIMEOUT_MS = 1500;

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
    users: namingFaults(pgUsers(pool, clock)),
    apiTokens: namingFaults(pgApiTokens(pool, clock)),
    authz: namingFaults(pgAuthz(pool, clock)),
    sessions: namingFaults(pgSessions(pool, clock)),
    throttles: namingFaults(pgThrottles(pool)),
    oneTimeTokens: namingFaults(pgOneTimeTokens(pool, clock)),
    outbox: namingFaults(pgOutbox(pool, clock)),
    oidcIdentities: namingFaults(pgOidcIdentities(pool, clock)),
    transfer: pgTransfer(pool),
    signingKeys: namingFaults(pgSigningKeys(pool)),
    secondFactors: namingFaults(pgSecondFactors(pool)),
    authzVersions() {
      if (listener === null) {
        listener = new PgAuthzListener({ url: opts.url, onState: opts.onListenerState });
        // Until it listens the version is unknown and every request asks the store: nothing waits on this.
        listener.start().catch(() => {});
      }
      return listener;
    },
    async ready() {
      try {
        const s = await migrationState(pool);
        if (s.pending.length > 0) throw new StoreBehindError(s.pending);
        // What serving needs: reads of the tables every request may ask (a lock on one of them stalls
        // requests), and a small write (a read-only standby or a full disk refuses only writes).
        await inTransaction(pool, async (c) => {
          await c.query(`SET LOCAL statement_timeout = ${READY_STATEMENT_TIMEOUT_MS}`);
          await c.query(
            `SELECT (SELECT 1 FROM users LIMIT 1), (SELECT 1 FROM sessions LIMIT 1),
                    (SELECT 1 FROM api_tokens LIMIT 1), (SELECT value FROM meta WHERE key = 'authz_version')`,
          );
          // SKIP LOCKED: every instance writes this one row, and a probe held up by another's (an instance
          // paused mid-probe) must not make the whole fleet look down. A row taken counts: its taker is writing.
          const written = await c.query(
            `UPDATE meta SET value = $1 WHERE key IN
               (SELECT key FROM meta WHERE key = 'ready_probe' FOR UPDATE SKIP LOCKED)`,
            [clock.now()],
          );
          if (written.rowCount === 0)
            await c.query(
              `INSERT INTO meta (key, value) SELECT 'ready_probe', $1
                WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'ready_probe') ON CONFLICT (key) DO NOTHING`,
              [clock.now()],
            );
        });
      } catch (err) {
        throw pgFault(err) ?? err;
      }
    },
    migrationState: () => migrationState(pool),
    migrate: () => migrate(pool, clock.now()),
    async close() {
      await listener?.close();
      await pool.end();
    },
  };
}
