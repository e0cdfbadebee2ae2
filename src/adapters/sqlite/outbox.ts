// The mail outbox in SQLite: queued mails survive restarts; a lease keeps two senders off one mail.
import { newId } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import type { MailOutboxStore, NewQueuedMail } from '../../ports/store.ts';
import { OUTBOX_COLUMNS, type OutboxRow, toMail } from '../outbox-rows.ts';
import type { Db } from './db.ts';
import { batchedDelete } from './purge.ts';

/** Prepared once per database: also used inside the one-time-token transaction. */
export function outboxInsert(db: Db, clock: Clock): (mail: NewQueuedMail) => void {
  const insert = db.prepare(
    `INSERT INTO mail_outbox (id, recipient, template, payload, created_at, next_attempt_at)
     VALUES (@id, @recipient, @template, @payload, @now, @now)`,
  );
  return (mail) => {
    const now = clock.now();
    insert.run({ ...mail, id: newId('mail'), now });
  };
}

export function sqliteOutbox(db: Db, clock: Clock): MailOutboxStore {
  const enqueue = outboxInsert(db, clock);
  const due = db.prepare(
    `SELECT ${OUTBOX_COLUMNS} FROM mail_outbox
     WHERE sent_at IS NULL AND next_attempt_at <= @now AND (locked_until IS NULL OR locked_until <= @now)
     ORDER BY next_attempt_at, created_at LIMIT @limit`,
  );
  const lease = db.prepare('UPDATE mail_outbox SET locked_until = ? WHERE id = ?');
  // IMMEDIATE: the select and the lease are one step for every process on the file.
  const claim = db.transaction((now: number, limit: number, leaseMs: number) => {
    const rows = due.all({ now, limit }) as OutboxRow[];
    for (const r of rows) lease.run(now + leaseMs, r.id);
    return rows.map(toMail);
  });
  // Fenced on the lease value the holder knows: another sender's lease (after this one lapsed) is never extended.
  const renew = db.prepare(
    `UPDATE mail_outbox SET locked_until = @until
     WHERE id = @id AND sent_at IS NULL AND locked_until = @held`,
  );
  const sent = db.prepare(
    `UPDATE mail_outbox SET sent_at = ?, payload = '', locked_until = NULL, attempts = attempts + 1
     WHERE id = ?`,
  );
  const failed = db.prepare(
    `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = @next, last_error = @error,
       locked_until = NULL
     WHERE id = @id AND sent_at IS NULL AND (@held IS NULL OR locked_until = @held)`,
  );
  const depth = db.prepare('SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL').pluck();
  // Sent mails, and unsent ones older than any link they could carry (the longest lives 7 days).
  const purge = batchedDelete(db, 'mail_outbox', 'sent_at < @sent OR created_at < @created');

  return {
    async enqueue(mail) {
      enqueue(mail);
    },
    async claimDue(now, limit, leaseMs) {
      return claim.immediate(now, limit, leaseMs);
    },
    async renewLease(id, heldUntil, until) {
      return renew.run({ id, held: heldUntil, until }).changes === 1;
    },
    async markSent(id, now) {
      sent.run(now, id);
    },
    async markFailed(id, nextAttemptAt, error, heldUntil) {
      failed.run({ next: nextAttemptAt, error: error.slice(0, 500), id, held: heldUntil ?? null });
    },
    async depth() {
      return depth.get() as number;
    },
    async purge(before) {
      return purge({ sent: before, created: before - 7 * 86_400_000 });
    },
  };
}
