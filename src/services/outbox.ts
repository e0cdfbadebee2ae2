// The outbox sender: delivers queued mails in the background, retries with exponential back-off, survives
// restarts (the queue is in the store), and marks each mail sent right after the transport accepts it.
import type { Sealer } from '../crypto/sealed.ts';
import type { Clock } from '../ports/clock.ts';
import type { Mailer } from '../ports/mailer.ts';
import type { QueuedMail, Store } from '../ports/store.ts';
import { type Branding, type MailData, type MailTemplate, renderMail } from './mail-templates.ts';

// One mail per claim: the lease covers exactly the mail being sent, so a slow server never lets another
// sender (a second worker, the CLI) take a mail that is still on its way. Longer than one delivery can
// take (the SMTP timeouts are 10–30 s); a crashed sender's lease simply expires.
const LEASE_MS = 120_000;
/** Never again: a permanent refusal, or a payload that cannot be opened. Housekeeping removes it later. */
const NEVER = 100 * 365 * 86_400_000;

/** 5 s, 10 s, 20 s, … up to an hour between attempts. An outage delays mail; it never drops it. */
export function retryDelay(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.min(attempts, 20), 3_600_000);
}

export interface OutboxLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export class OutboxSender {
  readonly #store: Store;
  readonly #mailer: Mailer;
  readonly #sealer: Sealer;
  readonly #clock: Clock;
  readonly #branding: () => Branding;
  readonly #log: OutboxLog;
  readonly #pollMs: number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;
  #stopped = true;

  constructor(
    deps: {
      store: Store;
      mailer: Mailer;
      sealer: Sealer;
      clock: Clock;
      branding: () => Branding;
      log: OutboxLog;
    },
    opts: { pollMs?: number } = {},
  ) {
    this.#store = deps.store;
    this.#mailer = deps.mailer;
    this.#sealer = deps.sealer;
    this.#clock = deps.clock;
    this.#branding = deps.branding;
    this.#log = deps.log;
    this.#pollMs = opts.pollMs ?? 1_000;
  }

  start(): void {
    this.#stopped = false;
    this.kick();
  }

  /** Look at the queue now (a mail was just queued) rather than at the next poll. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), 0);
  }

  #tick(): void {
    this.#timer = null;
    this.runOnce()
      .catch((err) => this.#log.warn({ err }, 'mail outbox: could not read the queue'))
      .finally(() => {
        if (!this.#stopped && !this.#timer) this.#timer = setTimeout(() => this.#tick(), this.#pollMs);
      });
  }

  /** Delivers every mail that is due now; returns how many were sent. One pass at a time. */
  runOnce(): Promise<number> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #pass(): Promise<number> {
    let sent = 0;
    for (;;) {
      const [mail] = await this.#store.outbox.claimDue(this.#clock.now(), 1, LEASE_MS);
      if (!mail) return sent;
      if (await this.#deliver(mail)) sent++;
      if (this.#stopped) return sent;
    }
  }

  async #deliver(mail: QueuedMail): Promise<boolean> {
    const data = this.#sealer.open(mail.payload) as MailData | null;
    if (!data) {
      // Sealed under another secret (it was rotated): it can never be sent; keep it out of the way.
      await this.#store.outbox.markFailed(
        mail.id,
        this.#clock.now() + 365 * 86_400_000,
        'payload cannot be opened',
      );
      this.#log.warn(
        { mail: mail.id },
        'mail outbox: a queued mail cannot be opened with the current secret',
      );
      return false;
    }
    const rendered = renderMail(mail.template as MailTemplate, data, this.#branding());
    try {
      await this.#mailer.send({ to: mail.recipient, ...rendered });
    } catch (err) {
      // A 5xx refusal of the recipient is the server's final word on this mail (no such mailbox): retrying
      // only repeats it. Anything else (refused credentials, a dead server) is ours to fix: retry.
      const e = err as { responseCode?: number; code?: string; command?: string };
      const permanent =
        typeof e.responseCode === 'number' &&
        e.responseCode >= 500 &&
        (e.code === 'EENVELOPE' || /^RCPT/i.test(e.command ?? ''));
      const next = this.#clock.now() + (permanent ? NEVER : retryDelay(mail.attempts));
      await this.#store.outbox.markFailed(mail.id, next, (err as Error).message ?? String(err));
      // Never the payload or the link: they hold a one-time token.
      this.#log.warn(
        {
          mail: mail.id,
          template: mail.template,
          attempts: mail.attempts + 1,
          error: (err as Error).message,
        },
        'mail delivery failed; will retry',
      );
      return false;
    }
    await this.#store.outbox.markSent(mail.id, this.#clock.now());
    this.#log.info({ mail: mail.id, template: mail.template }, 'mail delivered');
    return true;
  }

  /** Queue length (for metrics and readiness). */
  depth(): Promise<number> {
    return this.#store.outbox.depth();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }
}
