// API tokens in SQLite: only the SHA-256 of each token is stored.
import { newId } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import { type ApiTokenStore, StoreConflictError } from '../../ports/store.ts';
import { TOKEN_COLUMNS, type TokenRow, toToken } from '../api-token-rows.ts';
import { toUser, USER_COLUMNS } from '../user-rows.ts';
import { type Db, uniqueViolation } from './db.ts';

export function sqliteApiTokens(db: Db, clock: Clock): ApiTokenStore {
  const insert = db.prepare(
    `INSERT INTO api_tokens (id, token_hash, user_id, name, claims, created_at, expires_at)
     VALUES (@id, @tokenHash, @userId, @name, @claims, @now, @expiresAt)`,
  );
  const byId = db.prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens t WHERE t.id = ?`);
  // Indexed by token hash; the service caches results only until the authz version moves (revocation bumps it).
  const findUsable = db.prepare(
    `SELECT ${TOKEN_COLUMNS}, ${USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)`,
  );
  const listAll = db.prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens t ORDER BY t.created_at, t.id`);
  const listFor = db.prepare(
    `SELECT ${TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = ? ORDER BY t.created_at, t.id`,
  );
  const revoke = db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const touch = db.prepare(
    'UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)',
  );

  return {
    async create(t) {
      // A column SQLite would happily fill with text: only a real instant may decide when a token dies.
      if (t.expiresAt !== null && !Number.isSafeInteger(t.expiresAt))
        throw new Error('expiresAt is not a time');
      const id = newId('tok');
      try {
        insert.run({
          id,
          tokenHash: t.tokenHash,
          userId: t.userId,
          name: t.name,
          claims: t.claims === null ? null : JSON.stringify(t.claims),
          now: clock.now(),
          expiresAt: t.expiresAt,
        });
      } catch (err) {
        const field = uniqueViolation(err);
        if (field) throw new StoreConflictError(field);
        throw err;
      }
      return toToken(byId.get(id) as TokenRow);
    },
    async findUsable(tokenHash, now) {
      const row = findUsable.get(tokenHash, now) as (TokenRow & Parameters<typeof toUser>[0]) | undefined;
      return row ? { token: toToken(row), user: toUser(row) } : null;
    },
    async list(userId) {
      const rows = (userId === undefined ? listAll.all() : listFor.all(userId)) as TokenRow[];
      return rows.map(toToken);
    },
    async byId(id) {
      const row = byId.get(id) as TokenRow | undefined;
      return row ? toToken(row) : null;
    },
    async revoke(id, now) {
      return revoke.run(now, id).changes > 0;
    },
    async touch(id, now, minIntervalMs) {
      touch.run(now, id, now - minIntervalMs);
    },
  };
}
