// First-run setup as an operator meets it: `serve` on an empty store prints a one-time link; the link's page
// creates the first admin, signs them in, and never works again.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BrowserClient } from '../helpers/browser-client.ts';
import { tempDir } from '../helpers/gateway.ts';
import { type Served, startServe } from '../helpers/serve.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'the first admin passphrase';

describe('first-run setup', () => {
  let dir: string;
  let config: string;
  let up: Upstream;
  let server: Served | null = null;

  before(async () => {
    dir = tempDir('hgw-setup-');
    up = await startUpstream();
    config = join(dir, 'gw.toml');
    // Port 0: the real address is read from serve's listening line. public_url only shapes the printed link.
    writeFileSync(
      config,
      `[server]\nlisten = "127.0.0.1:0"\npublic_url = "http://localhost:8080"\ndata_dir = "./data"\nlog_level = "warn"\n` +
        `[admin]\nlisten = ""\n[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`,
    );
  });
  after(async () => {
    await server?.stop();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the printed link creates the first admin once, signs them in, and is dead afterwards', async () => {
    // The setup link is written before the listening line: once serve listens, it is there.
    const first = await startServe(config);
    server = first;
    const printed = /http:\/\/localhost:\d+\/auth\/setup\?token=([A-Za-z0-9_-]{43})/.exec(first.stderr());
    assert.ok(printed, `a setup link on stderr:\n${first.stderr()}`);
    const token = printed[1] as string;
    const b = new BrowserClient(first.url);
    const link = `/auth/setup?token=${token}`;

    assert.equal((await b.get(link)).status, 200);
    const page = await b.get(link);
    assert.equal(page.status, 200, 'showing the form does not use the link up');
    assert.match(page.body, /Create administrator/);

    const weak = await b.submit(link, '/auth/setup', {
      token,
      username: 'root',
      email: 'root@example.com',
      password: 'password1234',
      confirm_password: 'password1234',
    });
    assert.equal(weak.status, 400);
    assert.match(weak.body, /most commonly used passwords/);
    assert.match(weak.body, /value="root@example.com"/, 'what was typed is kept');
    assert.equal((await b.get(link)).status, 200, 'a refused form does not burn the link');

    const done = await b.submit(link, '/auth/setup', {
      token,
      username: 'root',
      email: 'Root@Example.com',
      password: PASSWORD,
      confirm_password: PASSWORD,
    });
    assert.equal(done.status, 303);
    assert.equal(done.location, '/auth/account');
    const status = JSON.parse((await b.get('/auth/status')).body);
    assert.equal(status.user.username, 'root');
    assert.deepEqual(status.claims, ['gateway.admin']);
    assert.equal((await b.get('/anything')).status, 200);
    assert.equal(up.seen.at(-1)?.headers['x-hero-user'], 'root');

    const reuse = await new BrowserClient(first.url).get(link);
    assert.equal(reuse.status, 404);
    assert.match(reuse.body, /already used or has expired/);
    // A valid form (CSRF token from another page) with the used token still creates nobody.
    const again = await new BrowserClient(first.url).submit('/auth/login', '/auth/setup', {
      token,
      username: 'mallory',
      email: 'm@example.com',
      password: PASSWORD,
      confirm_password: PASSWORD,
    });
    assert.equal(again.status, 404);

    // The audit log saw it, without the password or the link's token.
    const audit = readFileSync(join(dir, 'data', 'audit.log'), 'utf8');
    const events = audit
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(events.some((e) => e.action === 'setup.complete' && e.actor === 'root'));
    assert.ok(!audit.includes(PASSWORD) && !audit.includes(token));

    await first.stop();
    const second = await startServe(config);
    server = second;
    assert.doesNotMatch(second.stderr(), /setup\?token=/, 'once a user exists no link is printed');
  });
});
