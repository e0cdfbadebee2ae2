// One-time tokens (setup, invites, resets, magic links) in PostgreSQL: stored as SHA-256, consumed atomically.
import type pg from 'pg';
import type { Clock } from '../../ports/clock.ts';
import { type NewOneTimeToken, type OneTimeTokenStore, StoreConflictError } from '../../ports/store.ts';
import { ONE_TIME_TOKEN_COLUMNS, type OneTimeTokenRow, toToken } from '../one-time-token-rows.ts';
import { uniqueViolation } from './db.ts';
import { outboxInsert } from './outbox.ts';
import { deleteInBatches } from './purge.ts';
import { inTransaction, type Queryable } from './tx.ts';

const INSERT = `INSERT INTO one_time_tokens (token_hash, purpose, user_id, email, payload, created_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`;

const PEEK = `SELECT ${ONE_TIME_TOKEN_COLUMNS} FROM one_time_tokens
  WHERE token_hash = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3`;

// One UPDATE … RETURNING: the row is marked used in the same statement that reads it (a concurrent one waits on
// the row lock, then re-checks consumed_at), so of any number of concurrent presentations exactly one wins.
const CONSUME = `UPDATE one_time_tokens SET consumed_at = $3
  WHERE token_hash = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3
  RETURNING ${ONE_TIME_TOKEN_COLUMNS}`;

const DROP_EARLIER_FOR_USER =
  'DELETE FROM one_time_tokens WHERE purpose = $1 AND user_id = $2 AND consumed_at IS NULL';
const DROP_EARLIER_FOR_EMAIL =
  'DELETE FROM one_time_tokens WHERE purpose = $1 AND user_id IS NULL AND email = $2 AND consumed_at IS NULL';

const LIVE = `SELECT token_hash, ${ONE_TIME_TOKEN_COLUMNS} FROM one_time_tokens
  WHERE purpose = $1 AND consumed_at IS NULL AND expires_at > $2 ORDER BY created_at LIMIT 1`;

async function insert(q: Queryable, clock: Clock, t: NewOneTimeToken): Promise<void> {
  const payload = t.payload === null ? null : JSON.stringify(t.payload);
  await q.query(INSERT, [t.tokenHash, t.purpose, t.userId, t.email, payload, clock.now(), t.expiresAt]);
}

export function pgOneTimeTokens(pool: pg.Pool, clock: Clock): OneTimeTokenStore {
  return {
    async create(t) {
      try {
        await insert(pool, clock, t);
      } catch (err) {
        if (uniqueViolation(err)) throw new StoreConflictError('token_hash');
        throw err;
      }
    },
    async issue(t, mail) {
      // One transaction: a new link replaces the earlier ones (only the latest mail's link works), and a
      // token never exists without its mail.
      await inTransaction(pool, async (c) => {
        if (t.userId !== null) await c.query(DROP_EARLIER_FOR_USER, [t.purpose, t.userId]);
        else if (t.email !== null) await c.query(DROP_EARLIER_FOR_EMAIL, [t.purpose, t.email]);
        await insert(c, clock, t);
        if (mail) await outboxInsert(c, clock, mail);
      });
    },
    async issueIfNone(t, now) {
      return inTransaction(pool, async (c) => {
        // Read committed would let two instances starting together both find no live token and each store
        // (and print) its own. A transaction-scoped advisory lock keyed by the purpose makes them take turns;
        // each after the first finds the token the first committed.
        await c.query(
          `SELECT pg_advisory_xact_lock(hashtextextended('hero-gateway one_time_tokens ' || $1, 0))`,
          [t.purpose],
        );
        const { rows } = await c.query<OneTimeTokenRow & { token_hash: string }>(LIVE, [t.purpose, now]);
        const found = rows[0];
        if (found) return { tokenHash: found.token_hash, token: toToken(found), issued: false };
        await c.query('DELETE FROM one_time_tokens WHERE purpose = $1', [t.purpose]);
        await insert(c, clock, t);
        const stored = (
          await c.query<OneTimeTokenRow>(
            `SELECT ${ONE_TIME_TOKEN_COLUMNS} FROM one_time_tokens WHERE token_hash = $1`,
            [t.tokenHash],
          )
        ).rows[0] as OneTimeTokenRow;
        return { tokenHash: t.tokenHash, token: toToken(stored), issued: true };
      });
    },
    async peek(hash, purpose, now) {
      const { rows } = await pool.query<OneTimeTokenRow>(PEEK, [hash, purpose, now]);
      return rows[0] ? toToken(rows[0]) : null;
    },
    async consume(hash, purpose, now) {
      const { rows } = await pool.query<OneTimeTokenRow>(CONSUME, [hash, purpose, now]);
      return rows[0] ? toToken(rows[0]) : null;
    },
    async purge(before) {
      return deleteInBatches(pool, 'one_time_tokens', 'token_hash', 'expires_at < $1 OR consumed_at < $1', [
        before,
      ]);
    },
    async deletePurpose(purpose, userId) {
      const r =
        userId === undefined
          ? await pool.query('DELETE FROM one_time_tokens WHERE purpose = $1', [purpose])
          : await pool.query('DELETE FROM one_time_tokens WHERE purpose = $1 AND user_id = $2', [
              purpose,
              userId,
            ]);
      return r.rowCount ?? 0;
    },
  };
}
