// Users and their password credential in SQLite, and handing an account to whoever proved its address.
import { newId } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import {
  type NewUser,
  type OidcIdentityKey,
  type OwnershipReset,
  StoreConflictError,
  type User,
  type UserStore,
} from '../../ports/store.ts';
import { toUser, USER_COLUMNS, type UserRow } from '../user-rows.ts';
import { type Db, uniqueViolation } from './db.ts';
import { identityInsert } from './oidc-identities.ts';

export function sqliteUsers(db: Db, clock: Clock): UserStore {
  const insert = db.prepare(
    `INSERT INTO users (id, username, email, email_verified_at, created_at, updated_at)
     VALUES (@id, @username, @email, @verified, @now, @now)`,
  );
  const byId = db.prepare(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id = ?`);
  const byUsername = db.prepare(`SELECT ${USER_COLUMNS} FROM users u WHERE u.username = ?`);
  const byEmail = db.prepare(`SELECT ${USER_COLUMNS} FROM users u WHERE u.email = ?`);
  const list = db.prepare(`SELECT ${USER_COLUMNS} FROM users u ORDER BY u.username`);
  const count = db.prepare('SELECT COUNT(*) AS n FROM users').pluck();
  const setDisabledRow = db.prepare('UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ?');
  const endSessions = db.prepare(
    `UPDATE sessions SET revoked_at = @now WHERE user_id = @id AND id != @except AND revoked_at IS NULL
       AND idle_expires_at > @now AND absolute_expires_at > @now`,
  );
  // A disabled account's sessions end for good: enabling it again must not revive a stolen cookie.
  // Links that act on an account (reset, invite, sign-in) die with the credential they were issued against, and
  // so does a sign-in held for its second factor (it proved that credential).
  const dropAccountLinks = db.prepare(
    `DELETE FROM one_time_tokens WHERE user_id = ? AND consumed_at IS NULL
       AND purpose IN ('reset_password', 'invite', 'magic_login', 'mfa_pending')`,
  );
  const setDisabled = db.transaction((id: string, at: number | null, now: number) => {
    const changed = setDisabledRow.run(at, now, id).changes > 0;
    if (changed && at !== null) {
      endSessions.run({ now, id, except: '' });
      dropAccountLinks.run(id);
    }
    return changed;
  });
  const del = db.prepare('DELETE FROM users WHERE id = ?');
  const recordLogin = db.prepare('UPDATE users SET last_login_at = ? WHERE id = ?');
  const markVerified = db.prepare(
    'UPDATE users SET email_verified_at = ?, updated_at = ? WHERE id = ? AND email_verified_at IS NULL',
  );
  const upsertPassword = db.prepare(
    `INSERT INTO credentials (user_id, kind, secret_hash, created_at, updated_at) VALUES (?, 'password', ?, ?, ?)
     ON CONFLICT (user_id, kind) DO UPDATE SET secret_hash = excluded.secret_hash, updated_at = excluded.updated_at`,
  );
  const markPasswordChanged = db.prepare(
    'UPDATE users SET password_changed_at = ?, updated_at = ? WHERE id = ?',
  );
  const setEmailRow = db.prepare(
    'UPDATE users SET email = ?, email_verified_at = ?, updated_at = ? WHERE id = ?',
  );
  const setEmail = db.transaction((id: string, email: string, now: number) => {
    setEmailRow.run(email, now, now, id);
    dropAccountLinks.run(id);
  });
  const deletePassword = db.prepare("DELETE FROM credentials WHERE user_id = ? AND kind = 'password'");
  const unlinkIdentities = db.prepare(
    'DELETE FROM oidc_identities WHERE user_id = @id AND NOT (issuer = @issuer AND subject = @subject)',
  );
  // Memberships an operator made stay; the ones a provider asserted came with an identity that may be gone.
  const leaveProviderGroups = db.prepare(
    "DELETE FROM group_members WHERE user_id = ? AND source LIKE 'oidc:%'",
  );
  const revokeTokens = db.prepare(
    'UPDATE api_tokens SET revoked_at = @now WHERE user_id = @id AND revoked_at IS NULL',
  );
  const removeFactors = db.prepare('DELETE FROM second_factors WHERE user_id = ?');
  const removeRecoveryCodes = db.prepare('DELETE FROM recovery_codes WHERE user_id = ?');
  const markOwned = db.prepare(
    `UPDATE users SET password_changed_at = @now, email_verified_at = COALESCE(email_verified_at, @now),
       updated_at = @now WHERE id = @id`,
  );
  // One step, so there is no moment where the address counts as proven while someone else's way in remains.
  const resetOwnership = db.transaction(
    (id: string, now: number, keep: OidcIdentityKey | undefined): OwnershipReset => {
      const password = deletePassword.run(id).changes > 0;
      const identities = unlinkIdentities.run({
        id,
        issuer: keep?.issuer ?? '',
        subject: keep?.subject ?? '',
      }).changes;
      const groups = leaveProviderGroups.run(id).changes;
      const sessions = endSessions.run({ now, id, except: '' }).changes;
      const apiTokens = revokeTokens.run({ now, id }).changes;
      const secondFactors = removeFactors.run(id).changes;
      removeRecoveryCodes.run(id);
      dropAccountLinks.run(id);
      // A new password time also voids device cookies and password proofs issued before this moment.
      markOwned.run({ now, id });
      return { password, identities, groups, sessions, apiTokens, secondFactors };
    },
  );
  const passwordHash = db
    .prepare("SELECT secret_hash FROM credentials WHERE user_id = ? AND kind = 'password'")
    .pluck();
  // The new hash and the end of the other sessions are one step: never a new password with a thief still in.
  const setPassword = db.transaction(
    (
      id: string,
      hash: string,
      now: number,
      rehash: boolean,
      end: { now: number; except?: string } | undefined,
    ) => {
      upsertPassword.run(id, hash, now, now);
      if (!rehash) {
        markPasswordChanged.run(now, now, id);
        dropAccountLinks.run(id);
      }
      // Expired sessions are already unusable: only live ones are ended, so the count is what the user lost.
      return end ? endSessions.run({ now: end.now, id, except: end.except ?? '' }).changes : 0;
    },
  );

  const grantGlobal = db.prepare(
    `INSERT INTO grants (id, role_id, user_id, context, created_at)
     SELECT @grantId, r.id, @userId, '', @now FROM roles r WHERE r.name = @role`,
  );
  const linkIdentity = identityInsert(db);
  const createTx = db.transaction((id: string, user: NewUser, now: number) => {
    insert.run({
      id,
      username: user.username,
      email: user.email,
      verified: user.emailVerified ? now : null,
      now,
    });
    for (const role of user.roles ?? []) {
      if (grantGlobal.run({ grantId: newId('grant'), userId: id, now, role }).changes === 0)
        throw new Error(`no role named "${role}"`);
    }
    if (user.passwordHash) upsertPassword.run(id, user.passwordHash, now, now);
    // The account and its link are one step: a sign-up racing another for the same identity leaves no
    // account behind that nobody can sign in to.
    if (user.oidcIdentity && !linkIdentity({ ...user.oidcIdentity, userId: id }, now))
      throw new StoreConflictError('oidc_identity');
  });

  const one = (row: unknown) => (row ? toUser(row as UserRow) : null);

  return {
    async create(user: NewUser) {
      const now = clock.now();
      const id = newId('usr');
      try {
        createTx.immediate(id, user, now);
      } catch (err) {
        if (err instanceof StoreConflictError) throw err;
        const field = uniqueViolation(err);
        if (field) throw new StoreConflictError(field);
        throw err;
      }
      return one(byId.get(id)) as User;
    },
    async byId(id) {
      return one(byId.get(id));
    },
    async byUsername(username) {
      return one(byUsername.get(username));
    },
    async byEmail(email) {
      return one(byEmail.get(email));
    },
    async list() {
      return (list.all() as UserRow[]).map(toUser);
    },
    async count() {
      return count.get() as number;
    },
    async setDisabled(id, at) {
      return setDisabled.immediate(id, at, clock.now());
    },
    async delete(id) {
      return del.run(id).changes > 0;
    },
    async setPasswordHash(id, hash, opts = {}) {
      return setPassword.immediate(id, hash, clock.now(), opts.rehash === true, opts.endSessions);
    },
    async passwordHash(id) {
      return (passwordHash.get(id) as string | undefined) ?? null;
    },
    async setEmail(id, email) {
      try {
        setEmail.immediate(id, email, clock.now());
      } catch (err) {
        const field = uniqueViolation(err);
        if (field) throw new StoreConflictError(field);
        throw err;
      }
    },
    async resetOwnership(id, now, keep) {
      return resetOwnership.immediate(id, now, keep);
    },
    async recordLogin(id, now) {
      recordLogin.run(now, id);
    },
    async markEmailVerified(id, now) {
      markVerified.run(now, now, id);
    },
  };
}
