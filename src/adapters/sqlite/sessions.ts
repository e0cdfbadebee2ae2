// Sessions in SQLite: only the SHA-256 of each session token is stored.
import { newId } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SessionOidc, SessionStore } from '../../ports/store.ts';
import { SESSION_COLUMNS, type SessionRow, toSession } from '../session-rows.ts';
import { toUser, USER_COLUMNS } from '../user-rows.ts';
import type { Db } from './db.ts';
import { batchedDelete } from './purge.ts';

const USABLE = 's.revoked_at IS NULL AND s.idle_expires_at > @now AND s.absolute_expires_at > @now';

export function sqliteSessions(db: Db, clock: Clock): SessionStore {
  const insert = db.prepare(
    `INSERT INTO sessions (id, token_hash, user_id, auth_method, second_factor, created_at, last_seen_at,
       idle_expires_at, absolute_expires_at, ip, user_agent, oidc_provider, oidc_subject, oidc_sid, oidc_tokens)
     VALUES (@id, @tokenHash, @userId, @authMethod, @secondFactor, @now, @now, @idleExpiresAt, @absoluteExpiresAt,
       @ip, @userAgent, @oidcProvider, @oidcSubject, @oidcSid, @oidcTokens)`,
  );
  const oidcOf = db.prepare(
    `SELECT oidc_provider AS provider, oidc_subject AS subject, oidc_sid AS sid, oidc_tokens AS sealedTokens
     FROM sessions WHERE id = ? AND oidc_provider IS NOT NULL`,
  );
  // A logout token names the subject, the provider's session, or both; every name given must match.
  const revokeOidc = db.prepare(
    `UPDATE sessions SET revoked_at = @now
     WHERE oidc_provider = @provider AND revoked_at IS NULL AND created_at <= @startedBefore
       AND (@subject IS NULL OR oidc_subject = @subject) AND (@sid IS NULL OR oidc_sid = @sid)
       AND (@subject IS NOT NULL OR @sid IS NOT NULL)`,
  );
  const byId = db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = ?`);
  const findActive = db.prepare(
    `SELECT ${SESSION_COLUMNS}, ${USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token_hash = @hash AND ${USABLE}`,
  );
  // The idle expiry only ever moves forward and never past the absolute one (the service computes it).
  const touch = db.prepare(
    // A session that has expired stays expired: renewal never revives one (ending counts only live sessions).
    `UPDATE sessions SET last_seen_at = @now, idle_expires_at = MAX(idle_expires_at, @idle)
     WHERE id = @id AND revoked_at IS NULL AND last_seen_at <= @due
       AND idle_expires_at > @now AND absolute_expires_at > @now`,
  );
  const listActive = db.prepare(
    `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.user_id = @userId AND ${USABLE}
     ORDER BY s.created_at DESC, s.id`,
  );
  const ownerOf = db.prepare('SELECT user_id FROM sessions WHERE id = ?').pluck();
  const countActive = db.prepare(`SELECT COUNT(*) FROM sessions s WHERE ${USABLE}`).pluck();
  const revoke = db.prepare('UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const revokeOwned = db.prepare(
    'UPDATE sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL',
  );
  const revokeAll = db.prepare(
    `UPDATE sessions SET revoked_at = @now WHERE user_id = @userId AND id != @except AND revoked_at IS NULL
       AND idle_expires_at > @now AND absolute_expires_at > @now`,
  );
  const deleteExpired = batchedDelete(
    db,
    'sessions',
    'absolute_expires_at <= @now OR idle_expires_at <= @now OR (revoked_at IS NOT NULL AND revoked_at < @before)',
  );

  return {
    async create(s) {
      const id = newId('ses');
      const { oidc, ...rest } = s;
      insert.run({
        ...rest,
        id,
        secondFactor: s.secondFactor ?? null,
        now: clock.now(),
        oidcProvider: oidc?.provider ?? null,
        oidcSubject: oidc?.subject ?? null,
        oidcSid: oidc?.sid ?? null,
        oidcTokens: oidc?.sealedTokens ?? null,
      });
      return toSession(byId.get(id) as SessionRow);
    },
    async findActive(tokenHash, now) {
      const row = findActive.get({ hash: tokenHash, now }) as
        | (SessionRow & Parameters<typeof toUser>[0])
        | undefined;
      return row ? { session: toSession(row), user: toUser(row) } : null;
    },
    async touch(id, now, idleExpiresAt, minIntervalMs) {
      touch.run({ id, now, idle: idleExpiresAt, due: now - minIntervalMs });
    },
    async ownerOf(id) {
      return (ownerOf.get(id) as string | undefined) ?? null;
    },
    async countActive(now) {
      return countActive.get({ now }) as number;
    },
    async listActive(userId, now) {
      return (listActive.all({ userId, now }) as SessionRow[]).map(toSession);
    },
    async revoke(id, now, userId) {
      const r = userId === undefined ? revoke.run(now, id) : revokeOwned.run(now, id, userId);
      return r.changes > 0;
    },
    async revokeAllForUser(userId, now, exceptId) {
      return revokeAll.run({ userId, now, except: exceptId ?? '' }).changes;
    },
    async deleteExpired(now, before) {
      return deleteExpired({ now, before });
    },
    async oidcOf(id) {
      return (oidcOf.get(id) as SessionOidc | undefined) ?? null;
    },
    async revokeOidc(sel, now) {
      return revokeOidc.run({ ...sel, now }).changes;
    },
  };
}
