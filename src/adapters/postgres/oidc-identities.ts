// Identity-provider accounts in PostgreSQL: each (issuer, subject) belongs to exactly one user.
import type pg from 'pg';
import type { Clock } from '../../ports/clock.ts';
import type { NewOidcIdentity, OidcIdentityStore } from '../../ports/store.ts';
import { IDENTITY_COLUMNS, type IdentityRow, toIdentity } from '../oidc-identity-rows.ts';
import { toUser, USER_COLUMNS, type UserRow } from '../user-rows.ts';
import type { Queryable } from './tx.ts';

/**
 * The INSERT for a new link; also used by user creation, inside its transaction. False when (issuer, subject)
 * is already linked: ON CONFLICT DO NOTHING waits for a concurrent insert of the same key and then skips,
 * without aborting the enclosing transaction.
 */
export async function identityInsert(q: Queryable, identity: NewOidcIdentity, now: number): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO oidc_identities (provider, issuer, subject, user_id, email, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (issuer, subject) DO NOTHING`,
    [identity.provider, identity.issuer, identity.subject, identity.userId, identity.email, now],
  );
  return (rowCount ?? 0) > 0;
}

export function pgOidcIdentities(pool: pg.Pool, clock: Clock): OidcIdentityStore {
  return {
    async find(issuer, subject) {
      const { rows } = await pool.query<IdentityRow & UserRow>(
        `SELECT ${IDENTITY_COLUMNS}, ${USER_COLUMNS} FROM oidc_identities i JOIN users u ON u.id = i.user_id
         WHERE i.issuer = $1 AND i.subject = $2`,
        [issuer, subject],
      );
      const row = rows[0];
      return row ? { identity: toIdentity(row), user: toUser(row) } : null;
    },
    async link(identity) {
      return identityInsert(pool, identity, clock.now());
    },
    async recordLogin(issuer, subject, email, now) {
      await pool.query(
        'UPDATE oidc_identities SET last_login_at = $1, email = COALESCE($2, email) WHERE issuer = $3 AND subject = $4',
        [now, email, issuer, subject],
      );
    },
    async listForUser(userId) {
      // Byte order, as SQLite sorts text, whatever collation the database was created with.
      const { rows } = await pool.query<IdentityRow>(
        `SELECT ${IDENTITY_COLUMNS} FROM oidc_identities i WHERE i.user_id = $1
         ORDER BY i.provider COLLATE "C", i.created_at`,
        [userId],
      );
      return rows.map(toIdentity);
    },
  };
}
