// The outbox sender: delivers queued mails in the background, a few at a time and each attempt bounded in time,
// retries with back-off, survives restarts (the queue is in the store), and marks each mail sent right after the
// transport accepts it.
import type { Sealer } from '../crypto/sealed.ts';
import type { Clock } from '../ports/clock.ts';
import type { Mailer, OutgoingMail } from '../ports/mailer.ts';
import type { QueuedMail, Store } from '../ports/store.ts';
import { type Branding, type MailData, type MailTemplate, renderMail } from './mail-templates.ts';

/**
 * Mails in flight at once: a server that accepts and then hangs holds one slot, not the queue. The SMTP pool
 * keeps as many connections (adapters/mail/smtp.ts).
 */
const PARALLEL = 4;
/**
 * An attempt not finished by then has failed and is retried with back-off. It is aborted, so the transport
 * closes its connection (freeing the slot) and a late "accepted" is never counted on top of the failure. A server
 * that goes silent fails sooner, at nodemailer's 30 s idle-socket timeout; this bounds one that trickles. Not
 * shorter: a server that is only slow to answer the end of the message (content filters take tens of seconds;
 * RFC 5321 allows 10 minutes) has delivered it, and every attempt given up on there is a second copy.
 */
const ATTEMPT_TIMEOUT_MS = 60_000;
// A claim leases only the mails it starts at once, and only for a short while: a sender that dies (killed,
// host gone) blocks its mails for at most LEASE_MS. A live one renews the lease while the attempt runs, so the
// lease need not outlast the slowest attempt.
const LEASE_MS = 30_000;
const RENEW_MS = 10_000;
/** Never again: a permanent refusal, or a payload that cannot be opened. Housekeeping removes it later. */
const NEVER = 100 * 365 * 86_400_000;
const HOUR = 3_600_000;
// Why 30 s and not hourly: a mail waits out its back-off even after the server is back, and most of these mails
// carry links that die within 15 minutes (sign-in) to an hour (reset): a long back-off delivers dead links. At most
// 30 s between attempts finds a returning server within the half minute; what the retries cost a dead server is
// one refused connection. Only for failures that cannot have delivered the mail: after a timeout the server may
// have taken it (it went silent after the message), so those keep doubling, up to hourly, and a server that is
// always slower than the deadline gets a handful of copies, not one every half minute for a week.
const RETRY_CAP_MS = 30_000;

/** 5 s, 10 s, 20 s, then every `capMs` (30 s) between attempts. An outage delays mail; it never drops it. */
export function retryDelay(attempts: number, capMs = RETRY_CAP_MS): number {
  return Math.min(5_000 * 2 ** Math.min(attempts, 20), capMs);
}

/** Another sender claimed the mail after this one's lease lapsed: this attempt must not count for anything. */
class LeaseLost extends Error {}

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
  #stopping = false;
  // runOnce() during a pass: the pass claims again at once instead of when a slot frees.
  #again = false;
  #wake: () => void = () => {};

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
    this.#stopping = false;
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

  /**
   * Delivers every mail that is due now, PARALLEL at a time; returns how many were sent. One pass at a time: a
   * call during a pass makes it look at the queue again, and returns when it ends.
   */
  runOnce(): Promise<number> {
    this.#again = true;
    this.#wake();
    this.#running ??= this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #pass(): Promise<number> {
    let sent = 0;
    let fault: unknown = null;
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      this.#again = false;
      const free = PARALLEL - inFlight.size;
      if (free > 0 && !this.#stopping && fault === null) {
        // Only as many as start now: a claimed mail's lease runs from the claim, none waits here for a slot.
        const now = this.#clock.now();
        let mails: QueuedMail[] = [];
        try {
          mails = await this.#store.outbox.claimDue(now, free, LEASE_MS);
        } catch (err) {
          fault = err;
        }
        for (const mail of mails) {
          const delivery: Promise<void> = this.#deliver(mail, now + LEASE_MS)
            .then(
              (ok) => {
                if (ok) sent++;
              },
              (err) => {
                fault ??= err;
              },
            )
            .finally(() => inFlight.delete(delivery));
          inFlight.add(delivery);
        }
      }
      if (this.#again) continue;
      if (inFlight.size === 0) break;
      // Until a slot frees, someone calls runOnce (a mail was queued), or a poll interval passes (a mail's
      // back-off ended): the mails in flight never hold up the ones that are due.
      let poll: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        void Promise.race(inFlight).then(resolve);
        if (inFlight.size < PARALLEL) poll = setTimeout(resolve, this.#pollMs);
      });
      clearTimeout(poll);
      this.#wake = () => {};
    }
    // A store fault (claim, mark) ends the pass once the mails in flight have settled; the caller logs it.
    if (fault !== null) throw fault;
    return sent;
  }

  async #deliver(mail: QueuedMail, leasedUntil: number): Promise<boolean> {
    const data = this.#sealer.open(mail.payload) as MailData | null;
    if (!data) {
      // Sealed under another secret (it was rotated): it can never be sent; keep it out of the way.
      await this.#store.outbox.markFailed(
        mail.id,
        this.#clock.now() + 365 * 86_400_000,
        'payload cannot be opened',
        leasedUntil,
      );
      this.#log.warn(
        { mail: mail.id },
        'mail outbox: a queued mail cannot be opened with the current secret',
      );
      return false;
    }
    const rendered = renderMail(mail.template as MailTemplate, data, this.#branding());
    const { err, held } = await this.#attempt(mail, { to: mail.recipient, ...rendered }, leasedUntil);
    if (err instanceof LeaseLost) {
      // The mail is another sender's now: marking it, sent or failed, would override that sender's outcome.
      this.#log.warn({ mail: mail.id }, 'mail outbox: lease lost during a delivery attempt');
      return false;
    }
    if (err !== null) {
      await this.#failed(mail, err, held);
      return false;
    }
    await this.#store.outbox.markSent(mail.id, this.#clock.now());
    this.#log.info({ mail: mail.id, template: mail.template }, 'mail delivered');
    return true;
  }

  /**
   * One delivery attempt, decided once: null (accepted), or its error, the deadline's or a lost lease's
   * included. Whichever settles first wins; a send that completes after the deadline is not looked at, so a
   * mail given up on is never also marked sent. Also the lease as this sender last held it.
   */
  async #attempt(
    mail: QueuedMail,
    out: OutgoingMail,
    leasedUntil: number,
  ): Promise<{ err: unknown; held: number }> {
    const abort = new AbortController();
    const gaveUp = new Promise<never>((_, reject) => {
      abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
    });
    const deadline = setTimeout(
      () =>
        abort.abort(
          Object.assign(new Error(`no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }),
        ),
      ATTEMPT_TIMEOUT_MS,
    );
    let held = leasedUntil;
    let renewing: Promise<void> | null = null;
    const renew = setInterval(() => {
      // One renewal at a time: a second one would present the lease value the first is replacing.
      if (renewing) return;
      const until = this.#clock.now() + LEASE_MS;
      renewing = this.#store.outbox
        .renewLease(mail.id, held, until)
        .then(
          (ok) => {
            if (ok) held = until;
            else abort.abort(new LeaseLost('lease lost'));
          },
          // The store did not answer: the lease still runs; the next renewal tries again.
          (err) => this.#log.warn({ err, mail: mail.id }, 'mail outbox: could not renew a lease'),
        )
        .finally(() => {
          renewing = null;
        });
    }, RENEW_MS);
    let err: unknown = null;
    try {
      await Promise.race([this.#mailer.send(out, abort.signal), gaveUp]);
    } catch (e) {
      err = e;
    } finally {
      clearTimeout(deadline);
      clearInterval(renew);
    }
    // A renewal still on its way decides which lease this sender holds: the failure is marked under that one.
    await renewing;
    return { err, held };
  }

  async #failed(mail: QueuedMail, err: unknown, held: number): Promise<void> {
    // A 5xx refusal of the recipient is the server's final word on this mail (no such mailbox): retrying only
    // repeats it. Anything else (a dead or hanging server, refused credentials) is ours to fix: retry.
    const e = err as { responseCode?: number; code?: string; command?: string; timeoutType?: string };
    const permanent =
      typeof e.responseCode === 'number' &&
      e.responseCode >= 500 &&
      (e.code === 'EENVELOPE' || /^RCPT/i.test(e.command ?? ''));
    // Refused credentials wait for an operator, and a server that sees failed logins every half minute bans
    // the sender; a timeout may have delivered the mail (RETRY_CAP_MS): those keep doubling, up to hourly.
    // (Timeouts before the session was set up — connect, greeting, TLS — cannot have delivered anything.)
    const mayHaveDelivered =
      e.code === 'ETIMEDOUT' && !/^(CONNECT|GREETING|UPGRADE)_TIMEOUT$/.test(e.timeoutType ?? '');
    const doubling = e.code === 'EAUTH' || mayHaveDelivered;
    const delay = permanent ? NEVER : retryDelay(mail.attempts, doubling ? HOUR : RETRY_CAP_MS);
    await this.#store.outbox.markFailed(
      mail.id,
      this.#clock.now() + delay,
      (err as Error).message ?? String(err),
      held,
    );
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
  }

  /** Queue length (for metrics and readiness). */
  depth(): Promise<number> {
    return this.#store.outbox.depth();
  }

  /** Claims nothing more; waits for the attempts in flight (each ends by its deadline). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#wake();
    await this.#running?.catch(() => {});
  }
}
