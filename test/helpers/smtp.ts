// A real SMTP server on 127.0.0.1 (smtp-server + mailparser) that records every mail, for asserting what the app sent.
import type { AddressInfo } from 'node:net';
import { type AddressObject, type EmailAddress, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One received mail, flattened: addresses are plain strings, missing bodies are ''. */
export interface Mail {
  /** Addresses of the To header (group members included); the envelope recipients when there is no To. */
  to: string[];
  /** Address of the From header; the envelope sender when there is no From. */
  from: string;
  subject: string;
  /** The text part; mailparser derives it from the HTML when the mail has only HTML. */
  text: string;
  /** The HTML part, '' when there is none. */
  html: string;
  /** Lowercase header name to mailparser's parsed value. */
  headers: Map<string, unknown>;
}

export interface SmtpOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Require AUTH PLAIN/LOGIN with these credentials (no TLS needed); wrong ones get 535. */
  auth?: { user: string; pass: string };
}

export interface Smtp {
  /** smtp://[user:pass@]127.0.0.1:PORT, ready for nodemailer.createTransport. */
  url: string;
  port: number;
  /** Every mail received so far, in order of arrival; kept across stop()/start(). */
  mails: Mail[];
  /**
   * The first mail, received or still to come, that matches and that no earlier waitForMail returned,
   * so successive calls return successive mails. Rejects after timeoutMs listing what did arrive.
   */
  waitForMail(predicate?: (m: Mail) => boolean, timeoutMs?: number): Promise<Mail>;
  /** Stop listening (open connections are cut): connections are refused until start(). */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  /** Stop for good and reject any pending waitForMail. */
  close(): Promise<void>;
}

interface Waiter {
  predicate: (m: Mail) => boolean;
  resolve: (m: Mail) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const HOST = '127.0.0.1';

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const flat = (list: EmailAddress[]): string[] =>
    list.flatMap((a) => (a.group ? flat(a.group) : a.address ? [a.address] : []));
  return [field ?? []].flat().flatMap((o) => flat(o.value));
}

function describe(m: Mail): string {
  return `to=${m.to.join(',')} subject=${JSON.stringify(m.subject)}`;
}

export async function startSmtp(opts: SmtpOptions = {}): Promise<Smtp> {
  const mails: Mail[] = [];
  const returned = new Set<Mail>();
  const waiters: Waiter[] = [];
  let server: SMTPServer | undefined;
  let port = opts.port ?? 0;
  let closed = false;
  // Mails are recorded in the order their DATA ended, even if one parses faster than another.
  let recording: Promise<void> = Promise.resolve();

  const record = (mail: Mail): void => {
    mails.push(mail);
    for (const w of [...waiters]) {
      let match: boolean;
      try {
        match = w.predicate(mail);
      } catch (e) {
        match = false;
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.reject(e instanceof Error ? e : new Error(String(e)));
      }
      if (!match) continue;
      waiters.splice(waiters.indexOf(w), 1);
      clearTimeout(w.timer);
      returned.add(mail);
      w.resolve(mail);
      return;
    }
  };

  const options: SMTPServerOptions = {
    secure: false,
    logger: false,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true, // no DNS query per connection: faster, and nothing leaves the machine
    // A connection left open by a client must not hold stop() for smtp-server's default 30 s.
    closeTimeout: 100,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', callback);
      stream.on('end', () => {
        const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
        const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const parsed = simpleParser(Buffer.concat(chunks));
        parsed.catch(() => {}); // handled below, possibly after an earlier mail finishes recording
        const done = recording.then(async () => {
          const p = await parsed;
          const to = addresses(p.to);
          record({
            to: to.length ? to : envelopeTo,
            from: addresses(p.from)[0] ?? envelopeFrom,
            subject: p.subject ?? '',
            text: p.text ?? '',
            html: p.html || '',
            headers: p.headers,
          });
        });
        recording = done.catch(() => {});
        // Answer 250 only once the mail is in `mails`: a resolved sendMail means it is there.
        done.then(
          () => callback(),
          (e: Error) => callback(new Error(`test SMTP could not parse the mail: ${e.message}`)),
        );
      });
    },
  };
  if (opts.auth) {
    const { user, pass } = opts.auth;
    Object.assign(options, {
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _session, callback) {
        if (auth.username === user && auth.password === pass) return callback(null, { user });
        return callback(new Error('Invalid username or password'));
      },
    } satisfies SMTPServerOptions);
  } else {
    options.authOptional = true;
  }

  const start = async (): Promise<void> => {
    if (closed) throw new Error('test SMTP: start() after close()');
    if (server) return;
    const s = new SMTPServer(options);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, HOST, () => {
        s.off('error', reject);
        resolve();
      });
    });
    // Socket-level errors from clients (resets, etc.) must not crash the test process.
    s.on('error', () => {});
    port = (s.server.address() as AddressInfo).port;
    server = s;
  };

  const stop = async (): Promise<void> => {
    const s = server;
    if (!s) return;
    server = undefined;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  const waitForMail = (predicate: (m: Mail) => boolean = () => true, timeoutMs = 10_000): Promise<Mail> => {
    const found = mails.find((m) => !returned.has(m) && predicate(m));
    if (found) {
      returned.add(found);
      return Promise.resolve(found);
    }
    if (closed) return Promise.reject(new Error('test SMTP: waitForMail() after close()'));
    return new Promise<Mail>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          const seen = mails.map((m) => `  ${returned.has(m) ? '(already returned) ' : ''}${describe(m)}`);
          reject(
            new Error(
              `test SMTP: no matching mail within ${timeoutMs} ms; received ${mails.length}:\n${seen.join('\n')}`,
            ),
          );
        }, timeoutMs),
      };
      waiters.push(waiter);
    });
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await stop();
    for (const w of waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error('test SMTP closed while waiting for a mail'));
    }
  };

  await start();
  const creds = opts.auth
    ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.pass)}@`
    : '';
  return { url: `smtp://${creds}${HOST}:${port}`, port, mails, waitForMail, stop, start, close };
}

/**
 * The first http(s) link in the mail's text whose pathname starts with pathPrefix (e.g. '/auth/verify').
 * Throws listing the links found when none matches.
 */
export function linkIn(mail: Pick<Mail, 'text' | 'subject'>, pathPrefix: string): URL {
  // Stop at whitespace and at the brackets/quotes that commonly wrap a link in text (html-to-text writes "[url]").
  const found = (mail.text.match(/https?:\/\/[^\s<>"'()[\]]+/g) ?? []).map((s) =>
    s.replace(/[.,;:!?]+$/, ''),
  );
  for (const s of found) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      continue;
    }
    if (url.pathname.startsWith(pathPrefix)) return url;
  }
  const list = found.length ? found.map((s) => `  ${s}`).join('\n') : '  (none)';
  throw new Error(
    `no http(s) link with a path starting ${JSON.stringify(pathPrefix)} in mail ${JSON.stringify(mail.subject)}; links:\n${list}`,
  );
}
