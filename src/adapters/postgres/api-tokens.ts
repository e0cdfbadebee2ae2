// API tokens in PostgreSQL: only the SHA-256 of each token is stored.
import type pg from 'pg';
import { newId } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import { type ApiTokenStore, StoreConflictError } from '../../ports/store.ts';
import { TOKEN_COLUMNS, type TokenRow, toToken } from '../api-token-rows.ts';
import { toUser, USER_COLUMNS, type UserRow } from '../user-rows.ts';
import { uniqueViolation } from './db.ts';

export function pgApiTokens(pool: pg.Pool, clock: Clock): ApiTokenStore {
  return {
    async create(t) {
      // Same rule as the SQLite adapter: only a real instant may decide when a token dies.
      if (t.expiresAt !== null && !Number.isSafeInteger(t.expiresAt))
        throw new Error('expiresAt is not a time');
      try {
        const { rows } = await pool.query<TokenRow>(
          `INSERT INTO api_tokens AS t (id, token_hash, user_id, name, claims, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${TOKEN_COLUMNS}`,
          [
            newId('tok'),
            t.tokenHash,
            t.userId,
            t.name,
            t.claims === null ? null : JSON.stringify(t.claims),
            clock.now(),
            t.expiresAt,
          ],
        );
        return toToken(rows[0]!);
      } catch (err) {
        const field = uniqueViolation(err);
        if (field) throw new StoreConflictError(field);
        throw err;
      }
    },
    async findUsable(tokenHash, now) {
      // Indexed by token hash; the service caches results only until the authz version moves (revocation bumps it).
      const { rows } = await pool.query<TokenRow & UserRow>(
        `SELECT ${TOKEN_COLUMNS}, ${USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)`,
        [tokenHash, now],
      );
      const row = rows[0];
      return row ? { token: toToken(row), user: toUser(row) } : null;
    },
    async list(userId) {
      // Ids compared byte by byte, as SQLite does, whatever collation the database was created with.
      const { rows } =
        userId === undefined
          ? await pool.query<TokenRow>(
              `SELECT ${TOKEN_COLUMNS} FROM api_tokens t ORDER BY t.created_at, t.id COLLATE "C"`,
            )
          : await pool.query<TokenRow>(
              `SELECT ${TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = $1
               ORDER BY t.created_at, t.id COLLATE "C"`,
              [userId],
            );
      return rows.map(toToken);
    },
    async byId(id) {
      const { rows } = await pool.query<TokenRow>(
        `SELECT ${TOKEN_COLUMNS} FROM api_tokens t WHERE t.id = $1`,
        [id],
      );
      return rows[0] ? toToken(rows[0]) : null;
    },
    async revoke(id, now) {
      // One conditional UPDATE: of two concurrent revocations exactly one reports true.
      const { rowCount } = await pool.query(
        'UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL',
        [now, id],
      );
      return (rowCount ?? 0) > 0;
    },
    async touch(id, now, minIntervalMs) {
      await pool.query(
        'UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)',
        [now, id, now - minIntervalMs],
      );
    },
  };
}
