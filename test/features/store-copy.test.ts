// Moving an installation from SQLite to PostgreSQL as an operator does it: an installation built with the real
// CLI and used through a real gateway, copied with the real `store copy` command, then served from PostgreSQL —
// where the old passwords, API token, session cookie, queued mail and signing keys still work. A non-empty
// target and a copy that fails halfway leave the target as they found it; a missing source is not created.
// (The refusals of a source of another schema version are pinned in test/store/transfer.test.ts.)
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../../src/adapters/open-store.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { ensureSecret } from '../../src/config/secret.ts';
import { buildMail } from '../../src/mail.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { COPIED_TABLES } from '../../src/services/store-copy.ts';
import { BrowserClient, csrfIn } from '../helpers/browser-client.ts';
import { cli, type Run } from '../helpers/cli.ts';
import { startGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { linkIn, type Smtp, startSmtp } from '../helpers/smtp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORDS = {
  alice: 'the admin keeps her passphrase',
  bob: 'moving house with the gateway',
  carol: 'this one will be reset by mail',
};
const NEW_CAROL = 'a brand new passphrase after the move';
/** With trust authentication the server never asks for it; the copy must still never print it. */
const DB_PASSWORD = 'pg-pass-never-printed';
const clock = { now: () => Date.now() };

function loadConfigOrThrow(file: string) {
  const loaded = loadConfigFile(file);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  return loaded.config;
}

/** Rows per copied table: of a SQLite file, or of a PostgreSQL database. */
function sqliteCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(
      COPIED_TABLES.map(({ table }) => [
        table,
        db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number,
      ]),
    );
  } finally {
    db.close();
  }
}

async function pgCounts(url: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const counts: Record<string, number> = {};
    for (const { table } of COPIED_TABLES)
      counts[table] = (await c.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
    return counts;
  } finally {
    await c.end();
  }
}

/** The result line the copy must print for these counts. */
const countsLine = (counts: Record<string, number>) =>
  COPIED_TABLES.map(({ table, one, many }) => {
    const n = counts[table] ?? 0;
    return `${n} ${n === 1 ? one : many}`;
  }).join(', ');

const oneErrorLine = (r: Run, code: number, pattern: RegExp) => {
  assert.equal(r.code, code, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr:\n${r.stderr}`);
  assert.match(lines[0] ?? '', pattern);
  assert.ok(!r.stderr.includes(DB_PASSWORD), 'the database password is never printed');
};

describe('store copy: a SQLite installation moves to PostgreSQL', () => {
  let dir: string;
  let up: Upstream;
  let smtp: Smtp;
  let sqliteConfig: string;
  let sqlitePath: string;
  let target: TestDatabase;
  let targetUrl: string;
  const extraDatabases: TestDatabase[] = [];
  let gateway: TestGateway | null = null;
  let secret = '';
  let apiToken = '';
  let bobCookies = new Map<string, string>();
  let jwks = '';
  let sourceCounts: Record<string, number> = {};

  const withPassword = (url: string) => url.replace('postgres@', `postgres:${DB_PASSWORD}@`);
  const routes = () =>
    `[[route]]\nname = "app"\npath = "/"\nupstream = "${up.url}"\nauth = "local"\n` +
    `[[route]]\nname = "api"\npath = "/api"\nupstream = "${up.url}"\nauth = "bearer"\n` +
    `[[route]]\nname = "wiki"\npath = "/wiki"\nupstream = "${up.url}"\nauth = "local"\nrequire_claims = ["wiki.read"]\n`;
  /** A real gateway on `storeUrl` with the installation's secret (and `more` config). */
  const startOn = (storeUrl: string, more = '') =>
    startGateway(`[store]\nurl = "${storeUrl}"\n${more}${routes()}`, { server: `secret = "${secret}"` });
  const gw = (args: string[], stdin?: string) => cli([...args, '-c', sqliteConfig], stdin ? { stdin } : {});
  const copy = (from: string, to: string) => cli(['store', 'copy', '--from', from, '--to', to]);
  const ok = (r: Run) => {
    assert.equal(r.code, 0, r.stderr);
    return r;
  };

  before(async () => {
    dir = tempDir('hgw-store-copy-');
    up = await startUpstream();
    smtp = await startSmtp();
    target = await createTestDatabase();
    targetUrl = withPassword(target.url);
    sqliteConfig = join(dir, 'gw.toml');
    sqlitePath = join(dir, 'data', 'gateway.db');
    writeFileSync(
      sqliteConfig,
      `[server]\npublic_url = "http://localhost:8080"\ndata_dir = "./data"\nlog_level = "warn"\n[admin]\nlisten = ""\n`,
    );
  });
  after(async () => {
    await gateway?.close();
    await up.close();
    await smtp.close();
    for (const db of [target, ...extraDatabases]) await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an installation built with the CLI and used through a gateway is copied in full, with one line of counts', async () => {
    // Side by side, as several operators might (SQLite serializes the writers).
    (
      await Promise.all([
        gw(
          ['user', 'add', 'alice', '--email', 'alice@example.com', '--admin', '--password-stdin'],
          PASSWORDS.alice,
        ),
        gw(['user', 'add', 'bob', '--email', 'bob@example.com', '--password-stdin'], PASSWORDS.bob),
        gw(['user', 'add', 'carol', '--email', 'carol@example.com', '--password-stdin'], PASSWORDS.carol),
        gw(['role', 'set', 'editor', '--claims', 'wiki.read,wiki.write']),
      ])
    ).forEach(ok);
    // The secret the installation generated into data_dir/secret, as serve and the CLI do on first need.
    secret = ensureSecret(loadConfigOrThrow(sqliteConfig)).secret;
    assert.equal(readFileSync(join(dir, 'data', 'secret'), 'utf8').trim(), secret);

    // A gateway on the SQLite store, used for real: bob is put in a group holding a role, gets an API token and
    // signs in (a session cookie); alice's password is mistyped once (a throttle counter); alice is linked to an
    // identity-provider account the way a provider sign-in links it.
    gateway = await startOn(`sqlite:${sqlitePath}`);
    const { store } = gateway;
    const bobUser = await store.users.byUsername('bob');
    const alice = await store.users.byUsername('alice');
    assert.ok(bobUser && alice);
    await store.authz.addMember('sre', bobUser.id);
    await store.authz.grant('editor', { group: 'sre' }, '');
    const issued = await new ApiTokenService(store, clock).issue({
      userId: bobUser.id,
      name: 'ci',
      claims: null,
      expiresAt: null,
    });
    apiToken = issued.token;
    assert.ok(
      await store.oidcIdentities.link({
        provider: 'corp',
        issuer: 'https://idp.example',
        subject: 'alice-at-corp',
        userId: alice.id,
        email: 'alice@corp.example',
      }),
    );
    const bob = new BrowserClient(gateway.url);
    assert.equal((await bob.signIn('bob', PASSWORDS.bob, '/')).status, 303);
    assert.equal((await bob.get('/wiki/page')).status, 200);
    assert.equal(up.seen.at(-1)?.headers['x-hero-user'], 'bob');
    bobCookies = new Map(bob.jar);
    const bearer = await fetch(`${gateway.url}/api/x`, { headers: { authorization: `Bearer ${apiToken}` } });
    assert.equal(bearer.status, 200);
    assert.equal((await new BrowserClient(gateway.url).signIn('alice', 'not her passphrase')).status, 401);
    jwks = await (await fetch(`${gateway.url}/auth/.well-known/jwks.json`)).text();
    await gateway.close();
    gateway = null;
    // A reset mail queued the way `user reset` queues it, while no gateway runs and no SMTP server is configured:
    // sealed with the installation's secret, it waits in the outbox.
    const config = loadConfigOrThrow(sqliteConfig);
    const offline = await openStore(config.store.url, clock);
    const mail = buildMail({
      config: () => config,
      store: offline,
      clock,
      secret,
      log: { warn() {}, info() {} },
    });
    await mail.accounts.forgot('carol');
    await mail.mailer.close();
    await offline.close();

    sourceCounts = sqliteCounts(sqlitePath);
    assert.equal(sourceCounts.users, 3);
    assert.equal(sourceCounts.api_tokens, 1);
    assert.equal(sourceCounts.oidc_identities, 1);
    assert.equal(sourceCounts.mail_outbox, 1);
    for (const table of ['sessions', 'throttles', 'one_time_tokens', 'signing_keys'])
      assert.ok((sourceCounts[table] ?? 0) >= 1, table);

    const from = `sqlite:${sqlitePath}`;
    const r = await copy(from, targetUrl);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const shownTarget = targetUrl.replace(DB_PASSWORD, '***');
    assert.equal(
      r.stdout,
      `copied ${countsLine(sourceCounts)} from ${from} to ${shownTarget}; ` +
        'point [store] url at the new store, keep the same server secret, and restart\n',
    );
    assert.ok(!r.stdout.includes(DB_PASSWORD), 'the database password is never printed');
    assert.deepEqual(await pgCounts(target.url), sourceCounts);
  });

  test('copied back, PostgreSQL → SQLite gives exactly the rows the installation had', async () => {
    const back = join(dir, 'back.db');
    const r = ok(await copy(targetUrl, `sqlite:${back}`));
    assert.match(r.stdout, /^copied 3 users, /);
    assert.equal(r.stderr, '');
    const rows = (path: string) => {
      const db = new Database(path, { readonly: true });
      try {
        return COPIED_TABLES.map(({ table }) =>
          (db.prepare(`SELECT * FROM ${table}`).all() as object[]).map((row) => JSON.stringify(row)).sort(),
        );
      } finally {
        db.close();
      }
    };
    assert.deepEqual(rows(back), rows(sqlitePath));
  });

  test('served from PostgreSQL with the same secret: old password, token, cookie and queued mail all work', async () => {
    // What the operator changes: the store URL, and the secret written into the config (PostgreSQL requires it);
    // here also an SMTP server, so that the mail queued in SQLite goes out from PostgreSQL.
    gateway = await startOn(
      targetUrl,
      `[mail]\nfrom = "Gateway <gateway@example.com>"\nsmtp_url = "${smtp.url}"\n`,
    );
    const base = gateway.url;

    const cookie = new BrowserClient(base);
    for (const [name, value] of bobCookies) cookie.jar.set(name, value);
    assert.equal((await cookie.get('/wiki/page')).status, 200, 'the session cookie from SQLite');
    assert.equal(up.seen.at(-1)?.headers['x-hero-user'], 'bob');
    assert.equal(
      up.seen.at(-1)?.headers['x-hero-claims'],
      'wiki.read,wiki.write',
      'claims through group and role',
    );

    const bearer = await fetch(`${base}/api/x`, { headers: { authorization: `Bearer ${apiToken}` } });
    assert.equal(bearer.status, 200, 'the API token from SQLite');
    assert.equal(up.seen.at(-1)?.headers['x-hero-user'], 'bob');

    const alice = new BrowserClient(base);
    assert.equal((await alice.signIn('alice', PASSWORDS.alice, '/')).status, 303, 'the password from SQLite');
    assert.deepEqual(JSON.parse((await alice.get('/auth/status')).body).claims, ['gateway.admin']);

    // The mail sealed in SQLite opens with the same secret, and its link's one-time token is in the new store.
    const mail = await smtp.waitForMail((m) => m.to.includes('carol@example.com'));
    const link = linkIn(mail, '/auth/reset');
    const b = new BrowserClient(base);
    const page = await b.get(`${link.pathname}${link.search}`);
    assert.equal(page.status, 200);
    const reset = await b.post('/auth/reset', {
      csrf: csrfIn(page.body),
      token: link.searchParams.get('token') ?? '',
      password: NEW_CAROL,
      confirm_password: NEW_CAROL,
    });
    assert.equal(reset.status, 303);
    assert.equal((await new BrowserClient(base).signIn('carol', NEW_CAROL, '/')).status, 303);

    assert.equal(
      await (await fetch(`${base}/auth/.well-known/jwks.json`)).text(),
      jwks,
      'the same signing keys',
    );
    const linked = await gateway.store.oidcIdentities.find('https://idp.example', 'alice-at-corp');
    assert.equal(linked?.user.username, 'alice', 'the provider link');
    await gateway.close();
    gateway = null;
  });

  test('refused in one line with exit 1, nothing changed: a second copy into the now non-empty store, no source', async () => {
    const never = join(dir, 'never.db');
    const before = await pgCounts(target.url);
    assert.ok((before.users ?? 0) > 0);
    const [again, missing] = await Promise.all([
      copy(`sqlite:${sqlitePath}`, targetUrl),
      copy(`sqlite:${join(dir, 'no-such.db')}`, `sqlite:${never}`),
    ]);
    oneErrorLine(
      again as Run,
      1,
      /^error: the target store is not empty \(users, credentials, .*\); store copy only fills a new store/,
    );
    assert.deepEqual(await pgCounts(target.url), before, 'the second copy changed nothing');
    oneErrorLine(missing as Run, 1, /^error: the source store sqlite:.*no-such\.db: there is no store at /);
    assert.ok(!existsSync(never) && !existsSync(join(dir, 'no-such.db')), 'no store was created');
  });

  test('a copy that fails halfway leaves the target empty: it is one transaction', async () => {
    // The installation's rows (the copy back above) plus a session whose user is gone (written with the foreign keys off): users,
    // credentials, groups, roles, grants and tokens are written first, then the sessions fail.
    const broken = join(dir, 'back.db');
    const db = new Database(broken);
    db.pragma('foreign_keys = OFF');
    db.prepare(
      `INSERT INTO sessions (id, token_hash, user_id, auth_method, created_at, last_seen_at, idle_expires_at,
         absolute_expires_at) VALUES ('ses_orphan', 'orphan-hash', 'usr_gone', 'password', 1, 1, 2, 2)`,
    ).run();
    db.close();
    const fresh = await createTestDatabase();
    extraDatabases.push(fresh);
    const r = await copy(`sqlite:${broken}`, withPassword(fresh.url));
    oneErrorLine(r, 2, /^error: store copy failed, nothing was copied: .*"sessions".*foreign key/);
    assert.deepEqual(
      await pgCounts(fresh.url),
      { ...Object.fromEntries(COPIED_TABLES.map((t) => [t.table, 0])), roles: 1, role_claims: 1 },
      'nothing but the built-in role the migrations put there',
    );
  });
});
