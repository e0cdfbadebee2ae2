// Identity-provider accounts in SQLite: each (issuer, subject) belongs to exactly one user.
import type { Clock } from '../../ports/clock.ts';
import type { NewOidcIdentity, OidcIdentityStore } from '../../ports/store.ts';
import { IDENTITY_COLUMNS, type IdentityRow, toIdentity } from '../oidc-identity-rows.ts';
import { toUser, USER_COLUMNS } from '../user-rows.ts';
import type { Db } from './db.ts';

/** The INSERT for a new link; also used by user creation, inside its transaction. */
export function identityInsert(db: Db) {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO oidc_identities (provider, issuer, subject, user_id, email, created_at)
     VALUES (@provider, @issuer, @subject, @userId, @email, @now)`,
  );
  return (identity: NewOidcIdentity, now: number): boolean => insert.run({ ...identity, now }).changes > 0;
}

export function sqliteOidcIdentities(db: Db, clock: Clock): OidcIdentityStore {
  const find = db.prepare(
    `SELECT ${IDENTITY_COLUMNS}, ${USER_COLUMNS} FROM oidc_identities i JOIN users u ON u.id = i.user_id
     WHERE i.issuer = ? AND i.subject = ?`,
  );
  const insert = identityInsert(db);
  const recordLogin = db.prepare(
    'UPDATE oidc_identities SET last_login_at = ?, email = COALESCE(?, email) WHERE issuer = ? AND subject = ?',
  );
  const listForUser = db.prepare(
    `SELECT ${IDENTITY_COLUMNS} FROM oidc_identities i WHERE i.user_id = ? ORDER BY i.provider, i.created_at`,
  );
  return {
    async find(issuer, subject) {
      const row = find.get(issuer, subject) as (IdentityRow & Parameters<typeof toUser>[0]) | undefined;
      return row ? { identity: toIdentity(row), user: toUser(row) } : null;
    },
    async link(identity) {
      return insert(identity, clock.now());
    },
    async recordLogin(issuer, subject, email, now) {
      recordLogin.run(now, email, issuer, subject);
    },
    async listForUser(userId) {
      return (listForUser.all(userId) as IdentityRow[]).map(toIdentity);
    },
  };
}
