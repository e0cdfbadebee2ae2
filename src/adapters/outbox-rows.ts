// The mail outbox row, its column list and its mapper, shared by the SQLite and PostgreSQL adapters.
import type { QueuedMail } from '../ports/store.ts';

/** PostgreSQL's bigint instants arrive as numbers (postgres/db.ts), as SQLite's do. */
export interface OutboxRow {
  id: string;
  recipient: string;
  template: string;
  payload: string;
  attempts: number;
  created_at: number;
}

/** What a claim reads; PostgreSQL's also returns `next_attempt_at` to order its rows (postgres/outbox.ts). */
export const OUTBOX_COLUMNS = 'id, recipient, template, payload, attempts, created_at';

export const toMail = (r: OutboxRow): QueuedMail => ({
  id: r.id,
  recipient: r.recipient,
  template: r.template,
  payload: r.payload,
  attempts: r.attempts,
  createdAt: r.created_at,
});
