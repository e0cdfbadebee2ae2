// Composition of the mail side (mailer, sealed outbox, one-time links, account flows), shared by the server
// and the CLI (`user add --invite`). Wiring only.
import { consoleMailer } from './adapters/mail/console.ts';
import { smtpMailer } from './adapters/mail/smtp.ts';
import type { Config } from './config/load.ts';
import { Sealer } from './crypto/sealed.ts';
import type { Clock } from './ports/clock.ts';
import type { Mailer } from './ports/mailer.ts';
import type { Store } from './ports/store.ts';
import { EmailAccounts } from './services/email-accounts.ts';
import { OneTimeLinks } from './services/one-time-links.ts';
import { type OutboxLog, OutboxSender } from './services/outbox.ts';

export interface MailSide {
  mailer: Mailer;
  outbox: OutboxSender;
  /** One-time links and notices (a recovery code was used). */
  links: OneTimeLinks;
  accounts: EmailAccounts;
}

export function buildMail(deps: {
  /** Read at each use, so a reload's branding and public_url apply to the next mail. */
  config: () => Config;
  store: Store;
  clock: Clock;
  secret: string;
  log: OutboxLog;
}): MailSide {
  const { store, clock } = deps;
  const first = deps.config();
  const mailer = first.mail.smtp_url ? smtpMailer(first.mail.smtp_url, first.mail.from) : consoleMailer();
  const sealer = new Sealer(deps.secret, 'outbox');
  const outbox = new OutboxSender({
    store,
    mailer,
    sealer,
    clock,
    branding: () => {
      const b = deps.config().branding;
      return { title: b.title, accent: b.accent_color };
    },
    log: deps.log,
  });
  const links = new OneTimeLinks(
    {
      store,
      clock,
      sealer,
      settings: () => {
        const { server } = deps.config();
        return { publicUrl: server.public_url, authPrefix: server.auth_prefix };
      },
    },
    () => outbox.kick(),
  );
  return { mailer, outbox, links, accounts: new EmailAccounts(store, clock, links) };
}
