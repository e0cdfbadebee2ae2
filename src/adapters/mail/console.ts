// Development mail: without smtp_url, mails are printed to the console (stderr) so their links can be
// followed. Not the JSON log: log lines are kept free of tokens, and these carry them.
import type { Mailer } from '../../ports/mailer.ts';

export function consoleMailer(write: (text: string) => void = (t) => process.stderr.write(t)): Mailer {
  return {
    describe: 'the console (no smtp_url: development only)',
    async send(mail) {
      write(`\n  ── mail to ${mail.to}: ${mail.subject}\n${mail.text.replace(/^/gm, '  ')}\n  ──\n\n`);
    },
    async close() {},
  };
}
