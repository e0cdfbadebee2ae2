// The mail outbox in PostgreSQL: queued mails survive restarts; a lease keeps two senders off one mail.
import type pg from 'pg';
import { newId } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import type { MailOutboxStore, NewQueuedMail } from '../../ports/store.ts';
import { OUTBOX_COLUMNS, type OutboxRow, toMail } from '../outbox-rows.ts';
import { deleteInBatches } from './purge.ts';
import type { Queryable } from './tx.ts';

// A claimed row also carries when it fell due: RETURNING keeps no order, so claimDue sorts on it.
type ClaimedRow = OutboxRow & { next_attempt_at: number };

const INSERT = `INSERT INTO mail_outbox (id, recipient, template, payload, created_at, next_attempt_at)
  VALUES ($1, $2, $3, $4, $5, $5)`;

/** Queues one mail on `q`: the pool, or the client of the one-time-token transaction that writes its link. */
export async function outboxInsert(q: Queryable, clock: Clock, mail: NewQueuedMail): Promise<void> {
  await q.query(INSERT, [newId('mail'), mail.recipient, mail.template, mail.payload, clock.now()]);
}

// SKIP LOCKED: a row another sender is leasing right now is passed over instead of waited on, so two
// instances claiming at once never both take one mail. One statement selects and leases: no transaction.
const CLAIM = `UPDATE mail_outbox SET locked_until = $2
  WHERE id IN (
    SELECT id FROM mail_outbox
    WHERE sent_at IS NULL AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
    ORDER BY next_attempt_at, created_at LIMIT $3
    FOR UPDATE SKIP LOCKED)
  RETURNING ${OUTBOX_COLUMNS}, next_attempt_at`;

// Fenced on the lease value the holder knows: another sender's lease (after this one lapsed) is never extended.
const RENEW = `UPDATE mail_outbox SET locked_until = $3
  WHERE id = $1 AND sent_at IS NULL AND locked_until = $2`;

const SENT = `UPDATE mail_outbox SET sent_at = $1, payload = '', locked_until = NULL, attempts = attempts + 1
  WHERE id = $2`;

const FAILED = `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2,
    locked_until = NULL
  WHERE id = $3 AND sent_at IS NULL AND ($4::bigint IS NULL OR locked_until = $4)`;

// Sent mails, and unsent ones older than any link they could carry (the longest lives 7 days).
const PURGE = 'sent_at < $1 OR created_at < $2';

export function pgOutbox(pool: pg.Pool, clock: Clock): MailOutboxStore {
  return {
    async enqueue(mail) {
      await outboxInsert(pool, clock, mail);
    },
    async claimDue(now, limit, leaseMs) {
      const { rows } = await pool.query<ClaimedRow>(CLAIM, [now, now + leaseMs, limit]);
      // RETURNING keeps no order: hand them out oldest due first, as the SELECT chose them.
      rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.created_at - b.created_at);
      return rows.map(toMail);
    },
    async renewLease(id, heldUntil, until) {
      const { rowCount } = await pool.query(RENEW, [id, heldUntil, until]);
      return rowCount === 1;
    },
    async markSent(id, now) {
      await pool.query(SENT, [now, id]);
    },
    async markFailed(id, nextAttemptAt, error, heldUntil) {
      await pool.query(FAILED, [nextAttemptAt, error.slice(0, 500), id, heldUntil ?? null]);
    },
    async depth() {
      const { rows } = await pool.query<{ n: number }>(
        'SELECT COUNT(*) AS n FROM mail_outbox WHERE sent_at IS NULL',
      );
      return rows[0]?.n ?? 0;
    },
    async purge(before) {
      return deleteInBatches(pool, 'mail_outbox', 'id', PURGE, [before, before - 7 * 86_400_000]);
    },
  };
}
