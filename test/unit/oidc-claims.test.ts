// What the gateway takes from a provider's claims: an address, group names, usernames for a new account.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimedEmail, claimedGroups, usernameCandidates } from '../../src/services/oidc-accounts.ts';

test('the address: canonical, and only one the gateway accepts', () => {
  assert.equal(claimedEmail({ email: ' Ada@Example.COM ' }), 'ada@example.com');
  for (const email of [undefined, '', 42, 'not an address', 'a@b', 'x@y.com,z@w.com', 'Zoë@example.com'])
    assert.equal(claimedEmail({ email }), null, String(email));
});

test('groups: a list or one string, names the gateway can hold, no duplicates', () => {
  assert.deepEqual(
    claimedGroups({ g: ['eng', 'Eng', 'ops:oncall', 'eng', 'has space', '/nested/x', 7, ''] }, 'g'),
    ['eng', 'Eng', 'ops:oncall'],
  );
  assert.deepEqual(claimedGroups({ g: 'admins' }, 'g'), ['admins']);
  assert.deepEqual(claimedGroups({}, 'g'), []);
  assert.deepEqual(claimedGroups({ g: { admins: true } }, 'g'), []);
});

test('usernames for a new account: the preferred one if valid, then the address, then numbered', () => {
  assert.deepEqual(usernameCandidates({ preferred_username: 'Ada' }, 'ada.l@example.com').slice(0, 3), [
    'ada',
    'ada.l',
    'ada.l2',
  ]);
  assert.equal(usernameCandidates({ preferred_username: 'not valid!' }, 'zoe.o+x@example.com')[0], 'zoe.o-x');
  assert.equal(usernameCandidates({}, '--@example.com')[0], 'user');
  const all = usernameCandidates({}, 'bo@example.com');
  assert.equal(new Set(all).size, all.length);
  assert.match(all.at(-1) as string, /^bo-[a-z0-9]{8}$/);
  for (const u of all) assert.match(u, /^[a-z0-9][a-z0-9._-]{0,63}$/);
});
