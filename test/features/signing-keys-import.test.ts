// Upgrading an installation whose signing keys lived in data_dir/signing-keys.json: the first start imports
// them into the store (sealed), so apps that pinned those public keys keep verifying; the file's first key
// keeps signing; from then on the store is what counts; the retired key can be removed with the CLI.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { send } from '../helpers/browser-client.ts';
import { cli } from '../helpers/cli.ts';
import { type Instance, startInstance, writeInstanceConfig } from '../helpers/instance.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const SECRET = 'the secret of this installation, 32 bytes or more';
const DAY = 24 * 3600_000;

/** A key as the old file held it: the private JWK in clear. */
function fileKey(kid: string, createdAt: number) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, createdAt, jwk: privateKey.export({ format: 'jwk' }) as Record<string, string> };
}

describe('signing keys from data_dir/signing-keys.json', () => {
  let up: Upstream;
  let dir: string;
  let dataDir: string;
  let config: string;
  let gw: Instance | null = null;
  const toml = () =>
    `[[route]]\nname = "api"\npath = "/"\nupstream = "${up.url}"\nauth = "bearer"\ncontext = "app"\n`;
  // The old rule: the first key in the file signs; both are published.
  const current = fileKey('key-current', Date.now() - DAY);
  const previous = fileKey('key-previous', Date.now() - 30 * DAY);
  /** What an app pinned from the old JWKS: the public halves only. */
  const pinned: JSONWebKeySet = {
    keys: [current, previous].map(({ kid, jwk }) => ({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid })),
  };

  before(async () => {
    up = await startUpstream();
    dir = mkdtempSync(join(tmpdir(), 'hgw-import-'));
    dataDir = join(dir, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    writeFileSync(join(dataDir, 'signing-keys.json'), JSON.stringify({ keys: [current, previous] }), {
      mode: 0o600,
    });
    config = writeInstanceConfig(dir, {
      storeUrl: `sqlite:${join(dataDir, 'gateway.db')}`,
      secret: SECRET,
      dataDir,
      toml: toml(),
    });
  });
  after(async () => {
    await gw?.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = () =>
    startInstance({
      storeUrl: `sqlite:${join(dataDir, 'gateway.db')}`,
      secret: SECRET,
      dataDir,
      toml: toml(),
    });

  test('the first start imports the keys: same JWKS, the first key still signs, apps that pinned them verify', async () => {
    gw = await start();
    const jwks = JSON.parse((await send(`${gw.url}/auth/.well-known/jwks.json`)).body) as JSONWebKeySet;
    assert.deepEqual(
      jwks.keys.map((k) => [k.kid, k.x, k.y]).sort(),
      pinned.keys.map((k) => [k.kid, k.x, k.y]).sort(),
    );

    const stored = await gw.store.signingKeys.list();
    assert.equal(stored.length, 2);
    for (const k of stored) {
      assert.match(k.sealedPrivateJwk, /^v1\./);
      const d = (k.kid === current.kid ? current : previous).jwk.d as string;
      assert.ok(!JSON.stringify(k).includes(d), 'the private key is never stored in clear');
    }

    const user = await createUser(gw.store, {
      username: 'ann',
      email: 'ann@example.com',
      emailVerified: true,
    });
    const { token } = await new ApiTokenService(gw.store, { now: () => Date.now() }).issue({
      userId: user.id,
      name: 't',
      claims: null,
      expiresAt: null,
    });
    assert.equal((await send(`${gw.url}/x`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const jwt = String(up.seen.at(-1)?.headers['x-hero-assertion']);
    assert.equal(decodeProtectedHeader(jwt).kid, current.kid);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(pinned), { audience: 'app' });
    assert.equal(payload.username, 'ann');
  });

  test('from then on the store counts: without the file the same keys; the retired one can be removed', async () => {
    const before = JSON.parse((await send(`${gw?.url}/auth/.well-known/jwks.json`)).body);
    await gw?.close();
    gw = null;
    rmSync(join(dataDir, 'signing-keys.json'));
    gw = await start();
    assert.deepEqual(JSON.parse((await send(`${gw.url}/auth/.well-known/jwks.json`)).body), before);

    const list = await cli(['keys', 'list', '-c', config]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /key-current\s+signing/);
    assert.match(list.stdout, /key-previous\s+retired/);
    const refused = await cli(['keys', 'remove', 'key-current', '-c', config]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /key-current signs assertions now/);
    const removed = await cli(['keys', 'remove', 'key-previous', '-c', config]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(
      removed.stdout,
      /^removed signing key key-previous; running instances stop publishing it within 15 s\n$/,
    );
    assert.deepEqual(
      (await gw.store.signingKeys.list()).map((k) => k.kid),
      ['key-current'],
    );
    const last = await cli(['keys', 'remove', 'key-current', '-c', config]);
    assert.equal(last.code, 1);
    assert.match(last.stderr, /key-current is the only signing key: run hero-gateway keys rotate first/);
  });
});
