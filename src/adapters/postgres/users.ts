// Users and their password credential in PostgreSQL, and handing an account to whoever proved its address.
//
// Lock order: every multi-statement write on an account takes the user's row first (an UPDATE of it, or
// SELECT … FOR UPDATE), as SQLite's single writer serializes them. Inserts that reference the user (sessions,
// links, identities) take a key-share lock on that row for their foreign key, so they wait too.
import type pg from 'pg';
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
import { uniqueViolation } from './db.ts';
import { identityInsert } from './oidc-identities.ts';
import { inTransaction, type Queryable } from './tx.ts';

const count = (r: { rowCount: number | null }) => r.rowCount ?? 0;

/** Locks the user's row for the rest of the transaction (see the lock order above). */
async function lockUser(q: Queryable, id: string): Promise<void> {
  await q.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [id]);
}

/** Ends the user's usable sessions (but `except`); expired ones are already unusable and not counted. */
async function endSessions(q: Queryable, id: string, now: number, except = ''): Promise<number> {
  return count(
    await q.query(
      `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL
         AND idle_expires_at > $1 AND absolute_expires_at > $1`,
      [now, id, except],
    ),
  );
}

// A disabled account's sessions end for good: enabling it again must not revive a stolen cookie.
// Links that act on an account (reset, invite, sign-in) die with the credential they were issued against, and
// so does a sign-in held for its second factor (it proved that credential).
async function dropAccountLinks(q: Queryable, id: string): Promise<void> {
  await q.query(
    `DELETE FROM one_time_tokens WHERE user_id = $1 AND consumed_at IS NULL
       AND purpose IN ('reset_password', 'invite', 'magic_login', 'mfa_pending')`,
    [id],
  );
}

async function upsertPassword(q: Queryable, id: string, hash: string, now: number): Promise<void> {
  await q.query(
    `INSERT INTO credentials (user_id, kind, secret_hash, created_at, updated_at) VALUES ($1, 'password', $2, $3, $3)
     ON CONFLICT (user_id, kind) DO UPDATE SET secret_hash = excluded.secret_hash, updated_at = excluded.updated_at`,
    [id, hash, now],
  );
}

function conflict(err: unknown): unknown {
  if (err instanceof StoreConflictError) return err;
  const field = uniqueViolation(err);
  return field ? new StoreConflictError(field) : err;
}

export function pgUsers(pool: pg.Pool, clock: Clock): UserStore {
  const one = async (where: string, value: string): Promise<User | null> => {
    const { rows } = await pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users u WHERE ${where} = $1`, [
      value,
    ]);
    return rows[0] ? toUser(rows[0]) : null;
  };

  return {
    async create(user: NewUser) {
      const now = clock.now();
      const id = newId('usr');
      try {
        return await inTransaction(pool, async (c) => {
          const { rows } = await c.query<UserRow>(
            `INSERT INTO users AS u (id, username, email, email_verified_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING ${USER_COLUMNS}`,
            [id, user.username, user.email, user.emailVerified ? now : null, now],
          );
          for (const role of user.roles ?? []) {
            const granted = await c.query(
              `INSERT INTO grants (id, role_id, user_id, context, created_at)
               SELECT $1, r.id, $2, '', $3 FROM roles r WHERE r.name = $4`,
              [newId('grant'), id, now, role],
            );
            if (count(granted) === 0) throw new Error(`no role named "${role}"`);
          }
          if (user.passwordHash) await upsertPassword(c, id, user.passwordHash, now);
          // The account and its link are one step: a sign-up racing another for the same identity leaves no
          // account behind that nobody can sign in to.
          if (user.oidcIdentity && !(await identityInsert(c, { ...user.oidcIdentity, userId: id }, now)))
            throw new StoreConflictError('oidc_identity');
          return toUser(rows[0]!);
        });
      } catch (err) {
        // Mapped only after the rollback: a failed statement has already aborted the transaction.
        throw conflict(err);
      }
    },
    async byId(id) {
      return one('u.id', id);
    },
    async byUsername(username) {
      return one('u.username', username);
    },
    async byEmail(email) {
      return one('u.email', email);
    },
    async list() {
      // Byte order, as SQLite sorts text, whatever collation the database was created with.
      const { rows } = await pool.query<UserRow>(
        `SELECT ${USER_COLUMNS} FROM users u ORDER BY u.username COLLATE "C"`,
      );
      return rows.map(toUser);
    },
    async count() {
      const { rows } = await pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM users');
      return rows[0]!.n;
    },
    async setDisabled(id, at) {
      const now = clock.now();
      return inTransaction(pool, async (c) => {
        // Locked first, so a session or link inserted concurrently lands before this (and is ended) or after.
        await lockUser(c, id);
        const changed =
          count(
            await c.query('UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3', [at, now, id]),
          ) > 0;
        if (changed && at !== null) {
          await endSessions(c, id, now);
          await dropAccountLinks(c, id);
        }
        return changed;
      });
    },
    async delete(id) {
      return count(await pool.query('DELETE FROM users WHERE id = $1', [id])) > 0;
    },
    async setPasswordHash(id, hash, opts = {}) {
      const now = clock.now();
      const end = opts.endSessions;
      // The new hash and the end of the other sessions are one step: never a new password with a thief still in.
      return inTransaction(pool, async (c) => {
        await lockUser(c, id);
        await upsertPassword(c, id, hash, now);
        if (opts.rehash !== true) {
          await c.query('UPDATE users SET password_changed_at = $1, updated_at = $1 WHERE id = $2', [
            now,
            id,
          ]);
          await dropAccountLinks(c, id);
        }
        // Expired sessions are already unusable: only live ones are ended, so the count is what the user lost.
        return end ? endSessions(c, id, end.now, end.except ?? '') : 0;
      });
    },
    async passwordHash(id) {
      const { rows } = await pool.query<{ secret_hash: string }>(
        "SELECT secret_hash FROM credentials WHERE user_id = $1 AND kind = 'password'",
        [id],
      );
      return rows[0]?.secret_hash ?? null;
    },
    async setEmail(id, email) {
      const now = clock.now();
      try {
        await inTransaction(pool, async (c) => {
          // Locked first, so a link issued concurrently to the old address lands before this (and is voided).
          await lockUser(c, id);
          await c.query(
            'UPDATE users SET email = $1, email_verified_at = $2, updated_at = $2 WHERE id = $3',
            [email, now, id],
          );
          await dropAccountLinks(c, id);
        });
      } catch (err) {
        throw conflict(err);
      }
    },
    async resetOwnership(id: string, now: number, keep?: OidcIdentityKey): Promise<OwnershipReset> {
      // One step, so there is no moment where the address counts as proven while someone else's way in remains.
      return inTransaction(pool, async (c) => {
        // Locked first: a link, session or password written concurrently either lands before this reset (and is
        // removed by it) or waits for it, never slips in between its statements.
        await lockUser(c, id);
        const password =
          count(await c.query("DELETE FROM credentials WHERE user_id = $1 AND kind = 'password'", [id])) > 0;
        const identities = count(
          await c.query(
            'DELETE FROM oidc_identities WHERE user_id = $1 AND NOT (issuer = $2 AND subject = $3)',
            [id, keep?.issuer ?? '', keep?.subject ?? ''],
          ),
        );
        // Memberships an operator made stay; the ones a provider asserted came with an identity that may be gone.
        const groups = count(
          await c.query("DELETE FROM group_members WHERE user_id = $1 AND source LIKE 'oidc:%'", [id]),
        );
        const sessions = await endSessions(c, id, now);
        const apiTokens = count(
          await c.query('UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL', [
            now,
            id,
          ]),
        );
        const secondFactors = count(await c.query('DELETE FROM second_factors WHERE user_id = $1', [id]));
        await c.query('DELETE FROM recovery_codes WHERE user_id = $1', [id]);
        await dropAccountLinks(c, id);
        // A new password time also voids device cookies and password proofs issued before this moment.
        await c.query(
          `UPDATE users SET password_changed_at = $1, email_verified_at = COALESCE(email_verified_at, $1),
             updated_at = $1 WHERE id = $2`,
          [now, id],
        );
        return { password, identities, groups, sessions, apiTokens, secondFactors };
      });
    },
    async recordLogin(id, now) {
      await pool.query('UPDATE users SET last_login_at = $1 WHERE id = $2', [now, id]);
    },
    async markEmailVerified(id, now) {
      await pool.query(
        'UPDATE users SET email_verified_at = $1, updated_at = $1 WHERE id = $2 AND email_verified_at IS NULL',
        [now, id],
      );
    },
  };
}
