// Sessions in PostgreSQL: only the SHA-256 of each session token is stored.
import type pg from 'pg';
import { newId } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SessionOidc, SessionStore } from '../../ports/store.ts';
import { SESSION_COLUMNS, type SessionRow, toSession } from '../session-rows.ts';
import { toUser, USER_COLUMNS, type UserRow } from '../user-rows.ts';
import { deleteInBatches } from './purge.ts';

/** Usable at the instant bound to parameter `$n`. */
const usable = (n: number) =>
  `s.revoked_at IS NULL AND s.idle_expires_at > $${n} AND s.absolute_expires_at > $${n}`;

const INSERT = `INSERT INTO sessions AS s (id, token_hash, user_id, auth_method, created_at, last_seen_at,
    idle_expires_at, absolute_expires_at, ip, user_agent, oidc_provider, oidc_subject, oidc_sid, oidc_tokens,
    second_factor)
  VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  RETURNING ${SESSION_COLUMNS}`;

// Quoted alias: PostgreSQL folds unquoted names to lower case.
const OIDC_OF = `SELECT oidc_provider AS provider, oidc_subject AS subject, oidc_sid AS sid,
    oidc_tokens AS "sealedTokens"
  FROM sessions WHERE id = $1 AND oidc_provider IS NOT NULL`;

// A logout token names the subject, the provider's session, or both; every name given must match. The casts
// type parameters that may be null.
const REVOKE_OIDC = `UPDATE sessions SET revoked_at = $2
  WHERE oidc_provider = $1 AND revoked_at IS NULL AND created_at <= $3
    AND ($4::text IS NULL OR oidc_subject = $4::text) AND ($5::text IS NULL OR oidc_sid = $5::text)
    AND ($4::text IS NOT NULL OR $5::text IS NOT NULL)`;

const FIND_ACTIVE = `SELECT ${SESSION_COLUMNS}, ${USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.token_hash = $1 AND ${usable(2)}`;

// The idle expiry only ever moves forward and never past the absolute one (the service computes it).
// A session that has expired stays expired: renewal never revives one (ending counts only live sessions).
const TOUCH = `UPDATE sessions SET last_seen_at = $2, idle_expires_at = GREATEST(idle_expires_at, $3)
  WHERE id = $1 AND revoked_at IS NULL AND last_seen_at <= $4
    AND idle_expires_at > $2 AND absolute_expires_at > $2`;

const LIST_ACTIVE = `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.user_id = $1 AND ${usable(2)}
  ORDER BY s.created_at DESC, s.id`;

const REVOKE = 'UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL';
const REVOKE_OWNED =
  'UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL';
const REVOKE_ALL = `UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND id != $3 AND revoked_at IS NULL
  AND idle_expires_at > $2 AND absolute_expires_at > $2`;
const EXPIRED = `absolute_expires_at <= $1 OR idle_expires_at <= $1
  OR (revoked_at IS NOT NULL AND revoked_at < $2)`;

export function pgSessions(pool: pg.Pool, clock: Clock): SessionStore {
  return {
    async create(s) {
      const { oidc } = s;
      const { rows } = await pool.query<SessionRow>(INSERT, [
        newId('ses'),
        s.tokenHash,
        s.userId,
        s.authMethod,
        clock.now(),
        s.idleExpiresAt,
        s.absoluteExpiresAt,
        s.ip,
        s.userAgent,
        oidc?.provider ?? null,
        oidc?.subject ?? null,
        oidc?.sid ?? null,
        oidc?.sealedTokens ?? null,
        s.secondFactor ?? null,
      ]);
      return toSession(rows[0] as SessionRow);
    },
    async findActive(tokenHash, now) {
      const { rows } = await pool.query<SessionRow & UserRow>(FIND_ACTIVE, [tokenHash, now]);
      const row = rows[0];
      return row ? { session: toSession(row), user: toUser(row) } : null;
    },
    async touch(id, now, idleExpiresAt, minIntervalMs) {
      await pool.query(TOUCH, [id, now, idleExpiresAt, now - minIntervalMs]);
    },
    async ownerOf(id) {
      const { rows } = await pool.query<{ user_id: string }>('SELECT user_id FROM sessions WHERE id = $1', [
        id,
      ]);
      return rows[0]?.user_id ?? null;
    },
    async countActive(now) {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM sessions s WHERE ${usable(1)}`,
        [now],
      );
      return rows[0]?.n ?? 0;
    },
    async listActive(userId, now) {
      const { rows } = await pool.query<SessionRow>(LIST_ACTIVE, [userId, now]);
      return rows.map(toSession);
    },
    async revoke(id, now, userId) {
      const r =
        userId === undefined
          ? await pool.query(REVOKE, [now, id])
          : await pool.query(REVOKE_OWNED, [now, id, userId]);
      return (r.rowCount ?? 0) > 0;
    },
    async revokeAllForUser(userId, now, exceptId) {
      return (await pool.query(REVOKE_ALL, [userId, now, exceptId ?? ''])).rowCount ?? 0;
    },
    async deleteExpired(now, before) {
      return deleteInBatches(pool, 'sessions', 'id', EXPIRED, [now, before]);
    },
    async oidcOf(id) {
      const { rows } = await pool.query<SessionOidc>(OIDC_OF, [id]);
      return rows[0] ?? null;
    },
    async revokeOidc(sel, now) {
      const r = await pool.query(REVOKE_OIDC, [sel.provider, now, sel.startedBefore, sel.subject, sel.sid]);
      return r.rowCount ?? 0;
    },
  };
}
