// Self-service API tokens on /auth/account: create (shown once, optionally narrowed), use, revoke.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn, send } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';

describe('API tokens on the account page', () => {
  let up: Upstream;
  let gw: TestGateway;

  before(async () => {
    up = await startUpstream();
    gw = await startGateway(
      `[[route]]\nname = "wiki"\npath = "/wiki"\nupstream = "${up.url}"\nauth = "bearer"\n` +
        `[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`,
    );
    const passwordHash = await hashPassword(PASSWORD);
    const kim = await createUser(gw.store, {
      username: 'kim',
      email: 'kim@example.com',
      emailVerified: true,
      passwordHash,
    });
    await createUser(gw.store, {
      username: 'lee',
      email: 'lee@example.com',
      emailVerified: true,
      passwordHash,
    });
    await gw.store.authz.setRole('editor', ['wiki.read', 'wiki.write']);
    await gw.store.authz.grant('editor', { userId: kim.id }, '');
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  const api = (token: string) =>
    send(`${gw.url}/wiki/page`, { headers: { authorization: `Bearer ${token}` } });

  test('create a narrowed token (shown once), use it, revoke it; nobody revokes someone else’s', async () => {
    const b = new BrowserClient(gw.url);
    await b.signIn('kim', PASSWORD, '/');
    const page = await b.get('/auth/account');
    assert.match(page.body, /No tokens yet/);
    assert.match(page.body, /value="wiki.write"/);
    const made = await b.post('/auth/account/tokens', {
      csrf: csrfIn(page.body),
      name: 'backup script',
      expires: '30d',
      claims: 'wiki.read',
    });
    assert.equal(made.status, 303, 'a reload must not create it again');
    const shown = await b.get(made.location as string);
    const token = /id="new-token" type="text" readonly value="(hgw_[A-Za-z0-9_-]+)"/.exec(
      shown.body,
    )?.[1] as string;
    assert.ok(token, shown.body.slice(0, 400));
    assert.equal((await api(token)).status, 200);
    assert.equal(up.seen.at(-1)?.headers['x-hero-claims'], 'wiki.read', 'narrowed to what was ticked');
    const again = await b.get('/auth/account');
    assert.ok(!again.body.includes(token), 'the token is shown once');
    assert.match(again.body, /backup script/);

    for (const expires of ['__proto__', 'constructor', 'toString'])
      assert.equal(
        (await b.post('/auth/account/tokens', { csrf: csrfIn(again.body), name: 'odd', expires })).status,
        400,
        expires,
      );
    const greedy = await b.post('/auth/account/tokens', {
      csrf: csrfIn(again.body),
      name: 'x',
      claims: 'gateway.admin',
    });
    assert.equal(greedy.status, 400, 'not a claim kim holds');

    const id = /name="token" value="(tok_[^"]+)"/.exec(again.body)?.[1] as string;
    const lee = new BrowserClient(gw.url);
    await lee.signIn('lee', PASSWORD, '/');
    await lee.submit('/auth/account', '/auth/account/tokens/revoke', { token: id });
    assert.equal((await api(token)).status, 200, 'lee cannot revoke kim’s token');
    const revoked = await b.post('/auth/account/tokens/revoke', { csrf: csrfIn(again.body), token: id });
    assert.equal(revoked.status, 303);
    assert.equal((await api(token)).status, 401, 'revoked: refused on the next request');
  });
});
