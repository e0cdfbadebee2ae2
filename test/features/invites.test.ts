// Invites and registration modes: `user add --invite` mails a set-password link (the CLI delivers it at once),
// an invite registers only its own address, and closed registration has no page at all.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BrowserClient, csrfIn } from '../helpers/browser-client.ts';
import { cli } from '../helpers/cli.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { linkIn, type Smtp, startSmtp } from '../helpers/smtp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'my very own passphrase';

describe('invites and registration modes', () => {
  let up: Upstream;
  let smtp: Smtp;
  let gw: TestGateway;
  let config: string;
  const settings = (registration: string) =>
    `[accounts]\nregistration = "${registration}"\n[mail]\nsmtp_url = "${smtp.url}"\n` +
    `[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`;

  before(async () => {
    up = await startUpstream();
    smtp = await startSmtp();
    gw = await startGateway(settings('invite'), { server: 'public_url = "https://gw.example.com"' });
    config = join(gw.dir, 'cli.toml');
    writeFileSync(
      config,
      `[server]\ndata_dir = "${gw.dir}"\n${gw.reach.server}public_url = "https://gw.example.com"\n[admin]\nlisten = ""\n${gw.reach.store}${settings('invite')}`,
    );
  });
  after(async () => {
    await gw.close();
    await smtp.close();
    await up.close();
  });

  test('user add --invite mails a set-password link; following it sets the password and signs in', async () => {
    const run = await cli(['user', 'add', 'ivy', '--email', 'Ivy@Example.com', '--invite', '-c', config]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /invited ivy <ivy@example.com>/);
    assert.match(run.stderr, /link was mailed/);
    const mail = await smtp.waitForMail((m) => m.to.includes('ivy@example.com'));
    assert.match(mail.subject, /You are invited/);
    const link = linkIn(mail, '/auth/invite');
    assert.equal(link.origin, 'https://gw.example.com');
    assert.equal((await new BrowserClient(gw.url).signIn('ivy', PASSWORD)).status, 401, 'no password yet');

    const b = new BrowserClient(gw.url);
    const page = await b.get(`${link.pathname}${link.search}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /Choose a password for ivy/);
    const done = await b.post('/auth/invite', {
      csrf: csrfIn(page.body),
      token: link.searchParams.get('token') ?? '',
      password: PASSWORD,
      confirm_password: PASSWORD,
    });
    assert.equal(done.status, 303);
    const me = JSON.parse((await b.get('/auth/status')).body);
    assert.equal(me.user.username, 'ivy');
    assert.equal(me.user.email_verified, true, 'following the mailed link confirmed the address');
    assert.equal((await new BrowserClient(gw.url).signIn('ivy', PASSWORD, '/')).status, 303);
    assert.equal((await b.get(`${link.pathname}${link.search}`)).status, 404, 'the invite works once');
  });

  test('in invite mode, registration needs an invite, and an invite registers only its own address', async () => {
    const b = new BrowserClient(gw.url);
    assert.equal((await b.get('/auth/register')).status, 404);
    assert.equal(
      (await cli(['user', 'add', 'jade', '--email', 'jade@example.com', '--invite', '-c', config])).code,
      0,
    );
    const link = linkIn(await smtp.waitForMail((m) => m.to.includes('jade@example.com')), '/auth/invite');
    const token = link.searchParams.get('token') ?? '';
    const redirect = await b.get(`/auth/register?token=${token}`);
    assert.equal(redirect.status, 303);
    assert.equal(redirect.location, `/auth/invite?token=${token}`);
    const csrf = csrfIn((await b.get('/auth/login')).body);
    const other = await b.post('/auth/register', {
      csrf,
      token,
      username: 'mallory',
      email: 'mallory@example.com',
      password: PASSWORD,
      confirm_password: PASSWORD,
    });
    assert.equal(other.status, 400);
    assert.match(other.body, /This invite is for another address/);
    assert.equal(await gw.store.users.byUsername('mallory'), null);
    assert.equal(await gw.store.users.byEmail('mallory@example.com'), null);
    const own = await b.post('/auth/register', {
      csrf,
      token,
      username: 'ignored',
      email: 'JADE@example.com',
      password: PASSWORD,
      confirm_password: PASSWORD,
    });
    assert.equal(own.status, 303);
    assert.equal(JSON.parse((await b.get('/auth/status')).body).user.username, 'jade');
  });

  test('closed registration: no page and no form post, whatever is sent', async () => {
    const closed = await startGateway(settings('closed'));
    try {
      const b = new BrowserClient(closed.url);
      assert.equal((await b.get('/auth/register')).status, 404);
      const csrf = csrfIn((await b.get('/auth/login')).body);
      const post = await b.post('/auth/register', {
        csrf,
        username: 'zed',
        email: 'zed@example.com',
        password: PASSWORD,
        confirm_password: PASSWORD,
      });
      assert.equal(post.status, 404);
      assert.equal(await closed.store.users.byUsername('zed'), null);
      assert.doesNotMatch((await b.get('/auth/login')).body, /Create an account/);
    } finally {
      await closed.close();
    }
  });
});
