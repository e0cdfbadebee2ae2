// Mail over SMTP with nodemailer: `smtp://` (upgraded with STARTTLS when the server offers it) or `smtps://`
// (TLS from the first byte), with credentials from the URL.
import { createTransport } from 'nodemailer';
import type { Mailer, OutgoingMail } from '../../ports/mailer.ts';

export function smtpMailer(url: string, from: string): Mailer {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  const transport = createTransport(
    {
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port ? Number(u.port) : secure ? 465 : 587,
      secure,
      ...(u.username
        ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } }
        : {}),
      // Kept-open connections, one for each attempt the outbox runs at once (PARALLEL, services/outbox.ts): a
      // burst of mails does not pay a handshake each, and no mail queues in nodemailer behind a hanging one.
      pool: true,
      maxConnections: 4,
      // Short enough that a dead server fails one delivery attempt rather than holding the outbox.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    },
    { from },
  );
  return {
    describe: `${u.protocol}//${u.host}`,
    // The signal ends an attempt the outbox gave up on: nodemailer drops it from its queue, or closes the
    // connection carrying it (freeing the pool slot), and ignores whatever that connection would still answer.
    async send(mail: OutgoingMail, signal?: AbortSignal) {
      // An address object, not a string: nodemailer must not parse the recipient into a list.
      await transport.sendMail({
        to: { name: '', address: mail.to },
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        // RFC 3834: machine-sent, so auto-responders (vacation replies) stay quiet.
        headers: { 'Auto-Submitted': 'auto-generated' },
        signal,
      });
    },
    async close() {
      transport.close();
    },
  };
}
