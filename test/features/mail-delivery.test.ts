// Mail delivery details, each against its own real SMTP server: no link token in any log line, and SMTP
// credentials from smtp_url.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { createLogger } from '../../src/logger.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn } from '../helpers/browser-client.ts';
import { startGateway } from '../helpers/gateway.ts';
import { linkIn, startSmtp } from '../helpers/smtp.ts';
import { startUpstream } from '../helpers/upstream.ts';

const PASSWORD = 'a long enough passphrase';

describe('mail flows in the log', () => {
  test('no link token ever reaches a log line', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const up = await startUpstream();
    const smtp = await startSmtp();
    const gw = await startGateway(
      `[accounts]\nregistration = "open"\n[mail]\nsmtp_url = "${smtp.url}"\n[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`,
      { logger: createLogger('debug', sink) },
    );
    try {
      const b = new BrowserClient(gw.url);
      await b.submit('/auth/register', '/auth/register', {
        username: 'xena',
        email: 'xena@example.com',
        password: PASSWORD,
        confirm_password: PASSWORD,
      });
      const verify = linkIn(await smtp.waitForMail(), '/auth/verify');
      const page = await b.get(`${verify.pathname}${verify.search}`);
      await b.post('/auth/verify', {
        csrf: csrfIn(page.body),
        token: verify.searchParams.get('token') ?? '',
      });
      await b.submit('/auth/magic-link', '/auth/magic-link', { identifier: 'xena@example.com' });
      const magic = linkIn(await smtp.waitForMail(), '/auth/magic');
      await b.get(`${magic.pathname}${magic.search}`);
      await b.submit('/auth/forgot', '/auth/forgot', { identifier: 'xena' });
      const reset = linkIn(await smtp.waitForMail(), '/auth/reset');
      await b.get(`${reset.pathname}${reset.search}`);
      const text = lines.join('');
      assert.ok(text.includes('/auth/verify'), 'the requests were logged');
      for (const link of [verify, magic, reset]) {
        const token = link.searchParams.get('token') ?? '';
        assert.equal(token.length, 43);
        assert.ok(!text.includes(token), `${link.pathname}: token in the log`);
      }
    } finally {
      await gw.close();
      await smtp.close();
      await up.close();
    }
  });
});

describe('SMTP with credentials', () => {
  test('mail goes out with the credentials from smtp_url; with wrong ones it waits in the outbox', async () => {
    const smtp = await startSmtp({ auth: { user: 'gw', pass: 's3cret' } });
    const gateway = (url: string) => startGateway(`[mail]\nsmtp_url = "${url}"\n`);
    const good = await gateway(smtp.url);
    const bad = await gateway(smtp.url.replace('s3cret', 'wrong'));
    try {
      for (const gw of [good, bad])
        await createUser(gw.store, { username: 'amy', email: 'amy@example.com', emailVerified: true });
      await new BrowserClient(good.url).submit('/auth/forgot', '/auth/forgot', { identifier: 'amy' });
      const mail = await smtp.waitForMail();
      assert.match(mail.subject, /Reset your/);
      await new BrowserClient(bad.url).submit('/auth/forgot', '/auth/forgot', { identifier: 'amy' });
      await bad.gateway.outbox.runOnce();
      assert.equal(await bad.gateway.outbox.depth(), 1, 'refused credentials: kept for a later attempt');
      const db = new Database(bad.config.store.url.slice('sqlite:'.length), { readonly: true });
      const wait = db.prepare('SELECT next_attempt_at - created_at FROM mail_outbox').pluck().get() as number;
      db.close();
      assert.ok(wait < 60_000, `retried soon (in ${wait} ms), not given up`);
      assert.equal(smtp.mails.length, 1);
    } finally {
      await good.close();
      await bad.close();
      await smtp.close();
    }
  });
});
