// What attackers try against the mail flows: pre-registering someone else's address, probing which addresses
// have accounts, smuggling a second recipient into an address, reusing old links, and bouncing mail.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn } from '../helpers/browser-client.ts';
import { startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { linkIn, type Smtp, startSmtp } from '../helpers/smtp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const ATTACKER = 'the attackers own passphrase';

describe('mail flows under attack', () => {
  let up: Upstream;
  let smtp: Smtp;
  let gw: TestGateway;
  let clock: TestClock;
  let n = 0;
  const browser = () => new BrowserClient(gw.url, { 'x-forwarded-for': `203.0.113.${++n}` });
  const to = (address: string) => (m: { to: string[] }) => m.to.includes(address);
  const register = (b: BrowserClient, username: string, email: string, password = ATTACKER) =>
    b.submit('/auth/register', '/auth/register', { username, email, password, confirm_password: password });
  const follow = async (b: BrowserClient, link: URL, fields: Record<string, string> = {}) => {
    const page = await b.get(`${link.pathname}${link.search}`);
    if (page.status !== 200) return page;
    return b.post(link.pathname, {
      csrf: csrfIn(page.body),
      token: link.searchParams.get('token') ?? '',
      ...fields,
    });
  };

  before(async () => {
    up = await startUpstream();
    smtp = await startSmtp();
    clock = new TestClock(Date.now());
    gw = await startGateway(
      `[accounts]\nregistration = "open"\n[mail]\nsmtp_url = "${smtp.url}"\n` +
        `[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`,
      { clock, server: 'trusted_proxies = ["127.0.0.1"]' },
    );
  });
  after(async () => {
    await gw.close();
    await smtp.close();
    await up.close();
  });

  test('pre-registering a victim’s address: when the owner signs in by link, the attacker’s password is gone', async () => {
    assert.equal((await register(browser(), 'ceo', 'victim@corp.example')).status, 200);
    await smtp.waitForMail(to('victim@corp.example')); // the confirmation the attacker cannot read
    const victim = browser();
    await victim.submit('/auth/magic-link', '/auth/magic-link', { identifier: 'victim@corp.example' });
    const link = linkIn(await smtp.waitForMail(to('victim@corp.example')), '/auth/magic');
    assert.equal((await follow(victim, link)).status, 303);
    assert.equal(JSON.parse((await victim.get('/auth/status')).body).user.email_verified, true);
    assert.equal(
      (await browser().signIn('ceo', ATTACKER)).status,
      401,
      'the attacker’s password no longer works',
    );
  });

  test('the same race from the other side: a sign-up link confirmed after the attacker registered the address', async () => {
    const victim = browser();
    await victim.submit('/auth/magic-link', '/auth/magic-link', { identifier: 'cfo@corp.example' });
    const link = linkIn(await smtp.waitForMail(to('cfo@corp.example')), '/auth/magic');
    assert.equal((await register(browser(), 'cfo', 'cfo@corp.example')).status, 200);
    assert.equal((await follow(victim, link)).status, 303);
    assert.equal((await browser().signIn('cfo', ATTACKER)).status, 401);
  });

  test('registration does not tell which addresses have accounts, even with a taken username', async () => {
    await createUser(gw.store, { username: 'boss', email: 'boss@corp.example', emailVerified: true });
    const answer = async (email: string) => {
      const r = await register(browser(), 'boss', email, PASSWORD);
      return {
        status: r.status,
        body: r.body.replace(/name="csrf" value="[^"]*"/g, '').replace(email, 'EMAIL'),
      };
    };
    assert.deepEqual(await answer('boss@corp.example'), await answer('nobody@corp.example'));
  });

  test('an address cannot carry a second recipient or a display name', async () => {
    for (const email of [
      'attacker@evil.example,ceo.corp.example',
      'ceo<attacker@evil.example>',
      'attacker@evil.example(.corp.example)',
      'attacker@evil.example;corp.example',
      '"a b"@corp.example',
    ]) {
      const r = await register(browser(), `u${++n}`, email, PASSWORD);
      assert.equal(r.status, 400, email);
      assert.match(r.body, /is not an email address/);
    }
    assert.equal(smtp.mails.filter(to('attacker@evil.example')).length, 0);
  });

  test('links issued before a password change die with the old password', async () => {
    const user = await createUser(gw.store, {
      username: 'gil',
      email: 'gil@corp.example',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    await browser().submit('/auth/forgot', '/auth/forgot', { identifier: 'gil' });
    const reset = linkIn(await smtp.waitForMail(to('gil@corp.example')), '/auth/reset');
    await browser().submit('/auth/magic-link', '/auth/magic-link', { identifier: 'gil@corp.example' });
    const magic = linkIn(await smtp.waitForMail(to('gil@corp.example')), '/auth/magic');
    await gw.store.users.setPasswordHash(user.id, await hashPassword(`${PASSWORD} changed`));
    assert.equal((await browser().get(`${reset.pathname}${reset.search}`)).status, 404);
    assert.equal((await browser().get(`${magic.pathname}${magic.search}`)).status, 404);
  });

  test('a mail the server refuses for good (5xx) is not retried', async () => {
    let attempts = 0;
    const refusing = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        attempts++;
        const err = Object.assign(new Error('no such mailbox'), { responseCode: 550 });
        callback(err);
      },
    });
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    const port = (refusing.server.address() as { port: number }).port;
    const bouncing = await startGateway(
      `[accounts]\nregistration = "open"\n[mail]\nsmtp_url = "smtp://127.0.0.1:${port}"\n` +
        `[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`,
      { clock },
    );
    try {
      const b = new BrowserClient(bouncing.url);
      await b.submit('/auth/magic-link', '/auth/magic-link', { identifier: 'ghost@corp.example' });
      for (let i = 0; i < 50 && attempts === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(attempts, 1);
      clock.advance(30 * 86_400_000);
      await bouncing.gateway.outbox.runOnce();
      assert.equal(attempts, 1, 'refused for good: never tried again');
    } finally {
      await bouncing.close();
      await new Promise<void>((r) => refusing.close(() => r()));
    }
  });
});
