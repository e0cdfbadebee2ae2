// Which account a provider sign-in reaches: linking to an existing user only with link_by_verified_email AND
// email_verified = true, new accounts only with auto_provision or open registration, a clear page otherwise.
// Against a real OpenID provider.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { compileSnapshot } from '../../src/http/snapshot.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, type Response } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { gatewayClient, IdpUser, pathOf, providerToml, startIdp, type TestIdp } from '../helpers/idp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

describe('OpenID Connect: accounts', () => {
  let idp: TestIdp;
  let up: Upstream;
  let gw: TestGateway;

  const provider = (id: string, opts: string) => `${providerToml(id, `${id} provider`, idp.issuer)}${opts}\n`;

  before(async () => {
    [idp, up] = await Promise.all([startIdp(), startUpstream()]);
    gw = await startGateway(`
${provider('linker', 'link_by_verified_email = true')}
${provider('strict', '')}
${provider('provision', 'auto_provision = true')}
[[route]]
name = "app"
path = "/"
upstream = "${up.url}"
auth = ["local", "oauth"]
`);
    const client = gatewayClient(gw.url, 'linker');
    await idp.configure([
      {
        ...client,
        redirect_uris: ['linker', 'strict', 'provision'].map((p) => `${gw.url}/auth/oauth/${p}/callback`),
      },
    ]);
  });
  after(async () => {
    await gw.close();
    await Promise.all([up.close(), idp.close()]);
  });

  async function local(username: string, email: string, verified = true) {
    return createUser(gw.store, {
      username,
      email,
      emailVerified: verified,
      passwordHash: await hashPassword('a password of some length'),
    });
  }

  async function signInVia(
    provider: string,
    account: string,
    b = new BrowserClient(gw.url),
  ): Promise<Response> {
    const res = await b.get(`/auth/oauth/${provider}/start?return_to=%2Fapp`);
    assert.equal(res.status, 303, res.body);
    const back = await new IdpUser(idp.issuer).authorize(res.location as string, account);
    return b.get(pathOf(back));
  }

  async function whoAmI(b: BrowserClient): Promise<string | undefined> {
    const res = await b.get('/app');
    return res.status === 200 ? (up.seen.at(-1)?.headers['x-hero-user'] as string) : undefined;
  }

  test('an unverified address never links to an existing account', async () => {
    const user = await local('ulla', 'ulla@example.com');
    for (const claims of [{ email_verified: false }, {}, { email_verified: 'true' }]) {
      const sub = `ulla-${Object.keys(claims).length}-${String(Object.values(claims)[0])}`;
      idp.accounts.set(sub, { email: 'ULLA@example.com', ...claims });
      const b = new BrowserClient(gw.url);
      const res = await signInVia('linker', sub, b);
      assert.equal(res.status, 403, JSON.stringify(claims));
      assert.match(res.body, /No account here belongs to your linker provider account\./);
      assert.equal(await whoAmI(b), undefined);
      assert.equal(await gw.store.oidcIdentities.find(idp.issuer, sub), null);
    }
    assert.deepEqual(await gw.store.oidcIdentities.listForUser(user.id), []);
  });

  test('a verified address links to the existing account when the provider may link', async () => {
    const user = await local('vera', 'vera@example.com');
    idp.accounts.set('vera-sub', { email: 'vera@example.com', email_verified: true });
    const b = new BrowserClient(gw.url);
    const res = await signInVia('linker', 'vera-sub', b);
    assert.equal(res.status, 303, res.body);
    assert.equal(await whoAmI(b), 'vera');
    assert.equal(up.seen.at(-1)?.headers['x-hero-auth-method'], 'oidc:linker');
    assert.equal((await gw.store.oidcIdentities.find(idp.issuer, 'vera-sub'))?.user.id, user.id);
    assert.match((await b.get('/auth/account')).body, /You can also sign in with linker provider\./);
    // From now on the identity is the link, whatever address the provider sends.
    idp.accounts.set('vera-sub', { email: 'vera.new@example.com', email_verified: false });
    const again = new BrowserClient(gw.url);
    assert.equal((await signInVia('linker', 'vera-sub', again)).status, 303);
    assert.equal(await whoAmI(again), 'vera');
    assert.ok(await gw.store.users.passwordHash(user.id), 'a verified account keeps its password');
  });

  test('a verified address does not link through a provider without link_by_verified_email', async () => {
    await local('wes', 'wes@example.com');
    idp.accounts.set('wes-sub', { email: 'wes@example.com', email_verified: true });
    const res = await signInVia('strict', 'wes-sub');
    assert.equal(res.status, 403);
    assert.match(res.body, /No account here belongs to your strict provider account/);
    // Auto-provisioning cannot take the address either: the answer is the same, no second account appears.
    const prov = await signInVia('provision', 'wes-sub');
    assert.equal(prov.status, 403);
    assert.equal((await gw.store.users.list()).filter((u) => u.email === 'wes@example.com').length, 1);
  });

  test('linking to an account nobody confirmed removes the password someone else may have set', async () => {
    // Someone registered the victim's address first, with a password of their own, and never confirmed it.
    const squatter = await local('squatter', 'victim@example.com', false);
    assert.equal(squatter.emailVerifiedAt, null);
    idp.accounts.set('victim-sub', { email: 'victim@example.com', email_verified: true });
    const res = await signInVia('linker', 'victim-sub');
    assert.equal(res.status, 303, res.body);
    assert.equal(await gw.store.users.passwordHash(squatter.id), null, 'the planted password is gone');
    assert.ok((await gw.store.users.byId(squatter.id))?.emailVerifiedAt, 'the address is confirmed now');
    const attacker = new BrowserClient(gw.url);
    assert.equal((await attacker.signIn('squatter', 'a password of some length', '/app')).status, 401);
  });

  test('an unknown identity without provisioning sees a clear page and gets no account', async () => {
    idp.accounts.set('nobody-sub', { email: 'nobody@example.com', email_verified: true });
    const res = await signInVia('strict', 'nobody-sub');
    assert.equal(res.status, 403);
    assert.match(res.body, /<h1[^>]*>Sign-in not completed<\/h1>/);
    assert.match(res.body, /Ask an administrator for access/);
    assert.equal(await gw.store.users.byEmail('nobody@example.com'), null);
  });

  test('auto_provision creates the account: a free username, the address and its confirmation from the provider', async () => {
    await local('ada', 'ada.local@example.com');
    idp.accounts.set('ada-sub', {
      email: 'ada@example.com',
      email_verified: true,
      preferred_username: 'Ada',
    });
    const b = new BrowserClient(gw.url);
    assert.equal((await signInVia('provision', 'ada-sub', b)).status, 303);
    assert.equal(await whoAmI(b), 'ada2', '"ada" was taken');
    const ada2 = await gw.store.users.byUsername('ada2');
    assert.equal(ada2?.email, 'ada@example.com');
    assert.ok(ada2?.emailVerifiedAt);
    assert.equal(
      await gw.store.users.passwordHash(ada2?.id as string),
      null,
      'no password: the provider signs in',
    );
    const page = await b.get('/auth/account');
    assert.match(page.body, /This account has no password: you sign in with provision provider\./);
    assert.doesNotMatch(page.body, /name="current_password"/);

    idp.accounts.set('odd-sub', {
      email: 'Zoe.O+x@example.com',
      email_verified: true,
      preferred_username: 'not valid!',
    });
    const odd = new BrowserClient(gw.url);
    assert.equal((await signInVia('provision', 'odd-sub', odd)).status, 303);
    const username = await whoAmI(odd);
    assert.equal(username, 'zoe.o-x', 'from the address: lower-case, other characters as "-"');
    // Only an address the provider verified makes an account (see account-takeover.test.ts).
    assert.ok((await gw.store.users.byUsername(username as string))?.emailVerifiedAt);
  });

  test('a provider that shares no address cannot create an account', async () => {
    idp.accounts.set('mute-sub', { preferred_username: 'mute' });
    const res = await signInVia('provision', 'mute-sub');
    assert.equal(res.status, 403);
    assert.match(res.body, /provision provider did not share an email address/);
    assert.equal(await gw.store.users.byUsername('mute'), null);
  });

  test('open registration also creates accounts for new identities', async () => {
    idp.accounts.set('reg-sub', {
      email: 'reg@example.com',
      email_verified: true,
      preferred_username: 'reg',
    });
    assert.equal((await signInVia('strict', 'reg-sub')).status, 403, 'closed: no account');
    const { config } = gw.gateway.snapshots.current;
    gw.gateway.snapshots.current = compileSnapshot({
      ...config,
      accounts: { ...config.accounts, registration: 'open' },
    });
    const b = new BrowserClient(gw.url);
    assert.equal((await signInVia('strict', 'reg-sub', b)).status, 303);
    assert.equal(await whoAmI(b), 'reg');
    gw.gateway.snapshots.current = compileSnapshot(config);
  });
});
