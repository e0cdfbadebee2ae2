// The account use cases (services/accounts/) over a real SQLite store, for each kind of actor the entry points
// build: the operator at the CLI, an admin API caller, and the owner on their own account page. Every change
// is checked against the one rule set and audits itself; a password change says how many sessions it ended.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/adapters/open-store.ts';
import type { User } from '../../src/core/records.ts';
import type { AuditEvent } from '../../src/ports/audit.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Store } from '../../src/ports/store.ts';
import { AccountError, type Actor, operator } from '../../src/services/accounts/actor.ts';
import { type Accounts, buildAccounts } from '../../src/services/accounts/index.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { tempDir } from '../helpers/gateway.ts';

const PASSWORD = 'a long enough passphrase';

describe('account use cases', () => {
  let store: Store;
  let accounts: Accounts;
  const audited: AuditEvent[] = [];
  const mailed: string[] = [];
  let root: User;
  let helper: User;
  let plain: User;
  const cli = operator('cli:ops');
  const caller = (user: User, claims: string[], limited = false): Actor => ({
    kind: 'caller',
    user,
    claims,
    limited,
  });
  const session = async (user: User, n: number) =>
    store.sessions.create({
      tokenHash: `${user.username}-${n}-${Math.random()}`,
      userId: user.id,
      authMethod: 'password',
      idleExpiresAt: Date.now() + 60_000,
      absoluteExpiresAt: Date.now() + 120_000,
      ip: null,
      userAgent: null,
    });
  const refusal = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (err) {
      if (err instanceof AccountError) return err.code;
      throw err;
    }
    return 'allowed';
  };

  before(async () => {
    store = await openStore(`sqlite:${join(tempDir(), 'g.db')}`, systemClock);
    accounts = buildAccounts({
      store,
      clock: systemClock,
      audit: { record: (e) => audited.push(e) },
      tokens: new ApiTokenService(store, systemClock),
      mail: {
        invite: async (u) => void mailed.push(`invite:${u.username}`),
        forgot: async (name) => void mailed.push(`reset:${name}`),
      },
      passwordMinLength: () => 12,
    });
    root = await accounts.users.create(cli, {
      username: 'root',
      email: 'root@example.com',
      admin: true,
      password: PASSWORD,
      invite: false,
    });
    helper = await accounts.users.create(cli, {
      username: 'helper',
      email: 'helper@example.com',
      admin: false,
      password: null,
      invite: false,
    });
    plain = await accounts.users.create(cli, {
      username: 'plain',
      email: 'plain@example.com',
      admin: false,
      password: PASSWORD,
      invite: false,
    });
    await accounts.authz.setRole(cli, 'helpdesk', ['gateway.users.write']);
    await accounts.authz.grant(cli, 'helpdesk', { user: 'helper' }, '');
  });
  after(() => store.close());

  test('each change audits itself, naming the actor', async () => {
    audited.length = 0;
    await accounts.users.setDisabled(cli, plain, true);
    await accounts.users.setDisabled(cli, plain, false);
    await accounts.users.setEmail(cli, plain, 'Plain2@Example.com');
    await accounts.users.sendPasswordReset(cli, plain);
    const { record } = await accounts.tokens.issue(cli, plain, {
      name: 'ci',
      claims: null,
      lifetimeMs: null,
    });
    await accounts.tokens.revoke(cli, record.id);
    await accounts.sessions.endAll(cli, plain);
    assert.deepEqual(
      audited.map((e) => [e.action, e.actor]),
      [
        ['user.disable', 'cli:ops'],
        ['user.enable', 'cli:ops'],
        ['user.email', 'cli:ops'],
        ['user.password', 'cli:ops'],
        ['token.create', 'cli:ops'],
        ['token.revoke', 'cli:ops'],
        ['session.end', 'cli:ops'],
      ],
    );
    assert.deepEqual(mailed, ['reset:plain']);
    assert.equal((await accounts.users.byId(plain.id))?.email, 'plain2@example.com', 'canonical');
  });

  test('a password change ends the other sessions and says how many, for every actor', async () => {
    for (const n of [1, 2, 3]) await session(plain, n);
    assert.deepEqual(await accounts.users.setPassword(cli, plain, 'another long passphrase'), {
      sessionsEnded: 3,
    });
    const kept = await session(plain, 4);
    await session(plain, 5);
    const owner: Actor = { kind: 'owner', user: plain, sessionId: kept.id, ip: '192.0.2.1' };
    assert.deepEqual(await accounts.users.setPassword(owner, plain, 'a third long passphrase'), {
      sessionsEnded: 1,
    });
    assert.deepEqual(
      (await accounts.sessions.list(plain.id)).map((s) => s.id),
      [kept.id],
      'the owner keeps the session they changed it from',
    );
    const last = audited.at(-1);
    assert.equal(last?.action, 'password.change');
    assert.equal(last?.ip, '192.0.2.1');
    assert.deepEqual(last?.detail, { sessions_ended: 1 });
  });

  test('the same rule for every actor: nobody takes over an account holding claims they lack', async () => {
    const helpdesk = caller(helper, ['gateway.users.write']);
    assert.equal(await refusal(accounts.users.setPassword(helpdesk, root, PASSWORD)), 'forbidden');
    assert.equal(await refusal(accounts.users.setEmail(helpdesk, root, 'mine@example.com')), 'forbidden');
    assert.equal(await refusal(accounts.users.delete(helpdesk, root)), 'forbidden');
    assert.equal(await refusal(accounts.sessions.endAll(helpdesk, root)), 'forbidden');
    assert.equal(await refusal(accounts.users.setDisabled(helpdesk, plain, true)), 'allowed');
    await accounts.users.setDisabled(helpdesk, plain, false);
    // The owner acts on their own account only; anyone else's is unknown to them.
    const owner: Actor = { kind: 'owner', user: plain, sessionId: 'x', ip: null };
    assert.equal(await refusal(accounts.users.setPassword(owner, helper, PASSWORD)), 'not_found');
    const rootSession = await session(root, 1);
    assert.equal(await refusal(accounts.sessions.endOne(owner, rootSession.id)), 'not_found');
    assert.equal(await refusal(accounts.sessions.endOne(helpdesk, rootSession.id)), 'forbidden');
    assert.equal(await refusal(accounts.sessions.endOne(cli, rootSession.id)), 'allowed');
  });

  test('one token rule for the CLI, the API and the account page', async () => {
    const helpdesk = caller(helper, ['gateway.users.write']);
    const owner: Actor = { kind: 'owner', user: helper, sessionId: 'x', ip: null };
    const ask = (actor: Actor, who: User, claims: string[] | null) =>
      refusal(accounts.tokens.issue(actor, who, { name: 't', claims, lifetimeMs: 60_000 }));
    for (const actor of [helpdesk, owner]) {
      assert.equal(await ask(actor, root, null), 'forbidden', `${actor.kind}: a token for someone else`);
      assert.equal(
        await ask(actor, helper, ['gateway.admin']),
        'forbidden',
        `${actor.kind}: a claim not held`,
      );
      assert.equal(await ask(actor, helper, ['gateway.users.write']), 'allowed', actor.kind);
    }
    assert.equal(await ask(cli, root, ['anything']), 'allowed', 'the operator may do anything');
    const frozen = await accounts.tokens.issue(caller(helper, ['gateway.users.write'], true), helper, {
      name: 'child',
      claims: null,
      lifetimeMs: null,
    });
    assert.deepEqual(frozen.record.claims, ['gateway.users.write']);
    // Revoking: someone else's token is unknown unless the actor holds every claim.
    const roots = await accounts.tokens.issue(cli, root, { name: 'r', claims: null, lifetimeMs: null });
    assert.equal(await refusal(accounts.tokens.revoke(helpdesk, roots.record.id)), 'not_found');
    assert.equal(await refusal(accounts.tokens.revoke(owner, roots.record.id)), 'not_found');
    assert.equal(
      await refusal(accounts.tokens.revoke(caller(root, ['gateway.admin']), roots.record.id)),
      'allowed',
    );
  });

  test('grants and members: nobody hands out what they do not hold', async () => {
    const helpdesk = caller(helper, ['gateway.users.write']);
    assert.equal(await refusal(accounts.authz.grant(helpdesk, 'admin', { user: 'helper' }, '')), 'forbidden');
    assert.equal(await refusal(accounts.authz.grant(helpdesk, 'nope', { user: 'helper' }, '')), 'not_found');
    assert.equal(await refusal(accounts.authz.setRole(helpdesk, 'mine', ['gateway.admin'])), 'forbidden');
    assert.equal(await refusal(accounts.authz.setRole(cli, 'admin', [])), 'invalid_input');
    await accounts.authz.grant(cli, 'admin', { group: 'ops' }, '');
    assert.equal(await refusal(accounts.authz.setMember(helpdesk, 'ops', helper)), 'forbidden');
    assert.equal(await refusal(accounts.authz.setMember(helpdesk, 'staff', plain)), 'allowed');
    // Groups exist through their members: ops has none (the add was refused).
    assert.deepEqual(await accounts.authz.groups(), [{ name: 'staff', members: ['plain'] }]);
  });

  test('the account page acts as its owner, never as an admin, even for an admin (globally or in one context)', async () => {
    const scoped = await accounts.users.create(cli, {
      username: 'scoped',
      email: 'scoped@example.com',
      admin: false,
      password: null,
      invite: false,
    });
    await accounts.authz.grant(cli, 'admin', { user: 'scoped' }, 'wiki');
    for (const user of [root, scoped]) {
      const owner: Actor = { kind: 'owner', user, sessionId: 'x', ip: null };
      const theirs = await accounts.tokens.issue(cli, plain, { name: 'v', claims: null, lifetimeMs: null });
      assert.equal(
        await refusal(accounts.tokens.revoke(owner, theirs.record.id)),
        'not_found',
        user.username,
      );
      assert.equal((await store.apiTokens.byId(theirs.record.id))?.revokedAt, null, user.username);
      const claims = ['wiki.secret'];
      assert.equal(
        await refusal(accounts.tokens.issue(owner, user, { name: 't', claims, lifetimeMs: null })),
        'forbidden',
        `${user.username}: a claim not held`,
      );
    }
  });
});
