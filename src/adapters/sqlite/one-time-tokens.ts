// One-time tokens (setup, invites, resets, magic links) in SQLite: stored as SHA-256, consumed atomically.
import type { Clock } from '../../ports/clock.ts';
import {
  type NewOneTimeToken,
  type NewQueuedMail,
  type OneTimeTokenStore,
  StoreConflictError,
} from '../../ports/store.ts';
import { ONE_TIME_TOKEN_COLUMNS, type OneTimeTokenRow, toToken } from '../one-time-token-rows.ts';
import { type Db, uniqueViolation } from './db.ts';
import { outboxInsert } from './outbox.ts';
import { batchedDelete } from './purge.ts';

export function sqliteOneTimeTokens(db: Db, clock: Clock): OneTimeTokenStore {
  const insert = db.prepare(
    `INSERT INTO one_time_tokens (token_hash, purpose, user_id, email, payload, created_at, expires_at)
     VALUES (@tokenHash, @purpose, @userId, @email, @payload, @now, @expiresAt)`,
  );
  const peek = db.prepare(
    `SELECT ${ONE_TIME_TOKEN_COLUMNS} FROM one_time_tokens
     WHERE token_hash = ? AND purpose = ? AND consumed_at IS NULL AND expires_at > ?`,
  );
  // One UPDATE … RETURNING: the row is marked used in the same statement that reads it, so two concurrent
  // presentations of one token can never both succeed.
  const consume = db.prepare(
    `UPDATE one_time_tokens SET consumed_at = @now
     WHERE token_hash = @hash AND purpose = @purpose AND consumed_at IS NULL AND expires_at > @now
     RETURNING ${ONE_TIME_TOKEN_COLUMNS}`,
  );
  const deletePurpose = db.prepare('DELETE FROM one_time_tokens WHERE purpose = ?');
  const deletePurposeFor = db.prepare('DELETE FROM one_time_tokens WHERE purpose = ? AND user_id = ?');
  const dropEarlierForUser = db.prepare(
    'DELETE FROM one_time_tokens WHERE purpose = ? AND user_id = ? AND consumed_at IS NULL',
  );
  const dropEarlierForEmail = db.prepare(
    'DELETE FROM one_time_tokens WHERE purpose = ? AND user_id IS NULL AND email = ? AND consumed_at IS NULL',
  );
  const enqueue = outboxInsert(db, clock);
  const purge = batchedDelete(db, 'one_time_tokens', 'expires_at < @before OR consumed_at < @before');
  const row = (t: NewOneTimeToken) => ({
    ...t,
    payload: t.payload === null ? null : JSON.stringify(t.payload),
    now: clock.now(),
  });
  // A new link replaces the earlier ones: only the latest mail's link works.
  const issue = db.transaction((t: NewOneTimeToken, mail: NewQueuedMail | null) => {
    if (t.userId !== null) dropEarlierForUser.run(t.purpose, t.userId);
    else if (t.email !== null) dropEarlierForEmail.run(t.purpose, t.email);
    insert.run(row(t));
    if (mail) enqueue(mail);
  });

  const live = db.prepare(
    `SELECT token_hash, ${ONE_TIME_TOKEN_COLUMNS} FROM one_time_tokens
     WHERE purpose = ? AND consumed_at IS NULL AND expires_at > ? ORDER BY created_at LIMIT 1`,
  );
  const byHash = db.prepare(`SELECT ${ONE_TIME_TOKEN_COLUMNS} FROM one_time_tokens WHERE token_hash = ?`);
  const issueIfNone = db.transaction((t: NewOneTimeToken, now: number) => {
    const found = live.get(t.purpose, now) as (OneTimeTokenRow & { token_hash: string }) | undefined;
    if (found) return { tokenHash: found.token_hash, token: toToken(found), issued: false };
    deletePurpose.run(t.purpose);
    insert.run(row(t));
    return {
      tokenHash: t.tokenHash,
      token: toToken(byHash.get(t.tokenHash) as OneTimeTokenRow),
      issued: true,
    };
  });

  return {
    async create(t) {
      try {
        insert.run(row(t));
      } catch (err) {
        if (uniqueViolation(err)) throw new StoreConflictError('token_hash');
        throw err;
      }
    },
    async issue(t, mail) {
      issue.immediate(t, mail);
    },
    async issueIfNone(t, now) {
      // IMMEDIATE: the write lock is taken before the look for a live token, so two processes starting
      // together cannot both find none and each store (and print) a different one.
      return issueIfNone.immediate(t, now);
    },
    async peek(hash, purpose, now) {
      const row = peek.get(hash, purpose, now) as OneTimeTokenRow | undefined;
      return row ? toToken(row) : null;
    },
    async consume(hash, purpose, now) {
      const row = consume.get({ hash, purpose, now }) as OneTimeTokenRow | undefined;
      return row ? toToken(row) : null;
    },
    async purge(before) {
      return purge({ before });
    },
    async deletePurpose(purpose, userId) {
      return (userId === undefined ? deletePurpose.run(purpose) : deletePurposeFor.run(purpose, userId))
        .changes;
    },
  };
}
