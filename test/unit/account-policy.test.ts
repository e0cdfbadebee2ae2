// The one rule set for account changes and API tokens (core/account-policy.ts), table-driven.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorityOf, mayManage, tokenClaims } from '../../src/core/account-policy.ts';

const helpdesk = authorityOf(['gateway.users.write', 'wiki.read']);

test('managing an account needs every claim it holds; an admin holds them all', () => {
  const cases: Array<[ReturnType<typeof authorityOf>, string[], boolean]> = [
    ['all', ['gateway.admin', 'x'], true],
    [authorityOf(['gateway.admin']), ['anything'], true],
    [helpdesk, [], true],
    [helpdesk, ['wiki.read'], true],
    [helpdesk, ['wiki.read', 'gateway.admin'], false],
    [helpdesk, ['wiki.write'], false],
  ];
  for (const [authority, target, expected] of cases)
    assert.equal(
      mayManage(authority, target),
      expected,
      `${[...(authority === 'all' ? ['all'] : authority)]} over ${target}`,
    );
});

test('a token: only an all-claims issuer makes one for someone else, never with claims the issuer lacks', () => {
  const t = (
    authority: ReturnType<typeof authorityOf>,
    forSelf: boolean,
    requested: string[] | null,
    issuerLimited = false,
  ) => tokenClaims({ authority, issuerLimited, forSelf, requested });
  assert.deepEqual(
    t('all', false, null),
    { ok: true, claims: null },
    'an admin for anyone, following the owner',
  );
  assert.deepEqual(
    t('all', false, ['b', 'a', 'b']),
    { ok: true, claims: ['a', 'b'] },
    'sorted, deduplicated',
  );
  assert.deepEqual(t(helpdesk, false, null), { ok: false, reason: 'not_yours' });
  assert.deepEqual(t(helpdesk, true, ['wiki.read']), { ok: true, claims: ['wiki.read'] });
  assert.deepEqual(t(helpdesk, true, ['wiki.write']), { ok: false, reason: 'claims_not_held' });
  assert.deepEqual(t(helpdesk, true, []), { ok: true, claims: [] }, 'no claims at all is a valid narrowing');
  assert.deepEqual(t(helpdesk, true, null), { ok: true, claims: null }, 'whole authority: follows its owner');
  assert.deepEqual(
    t(helpdesk, true, null, true),
    { ok: true, claims: ['gateway.users.write', 'wiki.read'] },
    'a narrowed issuer: frozen to what it carries now',
  );
});
