// The one auth decision (http/decide.ts over core/decision.ts), with the real auth modes over stub services that
// answer at once: which outcome each request gets, that the modes only read, and that a cached identity is
// decided in the same tick (no promise on the hot path).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfigText } from '../../src/config/load.ts';
import type { Decision } from '../../src/core/decision.ts';
import { isPromise } from '../../src/core/maybe-promise.ts';
import type { Principal } from '../../src/core/principal.ts';
import { type DecisionHeaders, decide, type GateDeps } from '../../src/http/decide.ts';
import { bearerMode } from '../../src/http/modes/bearer.ts';
import { localMode } from '../../src/http/modes/local.ts';
import { oauthMode } from '../../src/http/modes/oauth.ts';
import { compileSnapshot } from '../../src/http/snapshot.ts';
import { inspectTarget } from '../../src/http/target.ts';
import type { User } from '../../src/ports/store.ts';
import type { ApiTokenService } from '../../src/services/api-tokens.ts';
import type { IdentityAssertions } from '../../src/services/assertions.ts';
import type { AuthzFreshness } from '../../src/services/authz-freshness.ts';
import type { ClaimResolver } from '../../src/services/claims.ts';
import type { SessionService } from '../../src/services/sessions.ts';

const UP = 'http://127.0.0.1:1';
const CONFIG = `
[server]
public_url = "https://gw.example.com"
[[route]]
name = "open"
path = "/"
upstream = "${UP}"
auth = "none"
[[route]]
name = "app"
path = "/app"
upstream = "${UP}"
auth = ["local", "bearer"]
[[route]]
name = "api"
path = "/api"
upstream = "${UP}"
auth = ["local", "bearer"]
api = true
[[route]]
name = "ops"
path = "/ops"
upstream = "${UP}"
auth = "local"
require_claims = ["ops"]
[[route]]
name = "flat"
path = "/flat"
upstream = "${UP}"
auth = "local"
websocket = false
`;

const loaded = loadConfigText(CONFIG, { env: {} });
if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
const snapshot = compileSnapshot(loaded.config);
const cookie = `${snapshot.auth.session.name}=good`;

const ann = { id: 'u1', username: 'ann', email: 'ann@example.com' } as User;
const sessions = {
  resolve: (t: string) => (t === 'good' ? { user: ann, session: { authMethod: 'password' } } : null),
} as unknown as SessionService;
const tokens = {
  verify: (t: string): Principal | null =>
    t === 'hgw_good' ? { user: ann, method: 'bearer', secondFactor: null, claimLimit: null } : null,
} as unknown as ApiTokenService;
const deps: GateDeps = {
  modes: { bearer: bearerMode(tokens), local: localMode(sessions), oauth: oauthMode(sessions) },
  assertions: {
    for: (p: Principal, context: string) => `signed:${p.user.username}:${context}`,
  } as unknown as IdentityAssertions,
  claims: { claimsFor: () => [] } as unknown as ClaimResolver,
  freshness: { refresh: () => undefined } as unknown as AuthzFreshness,
};

/** Decided now, never later: every stub answers at once, so the decision must too. */
function decideNow(target: string, headers: DecisionHeaders = {}, upgrade = false): Decision {
  const t = inspectTarget(target, 'apps.example.com', 'https');
  if (!t.ok) throw new Error('bad target');
  // Frozen: deciding reads the request, it never changes it (a mode that marked the request would throw here).
  const s = Object.freeze({ snapshot, ...t.target, proto: 'https' as const, clientIp: '192.0.2.1' });
  const d = decide(deps, s, Object.freeze({ ...headers }), upgrade);
  assert.ok(!isPromise(d), 'a cached identity is decided in the same tick');
  return d;
}

const JSON_ACCEPT = { accept: 'application/json' };
const BROWSER = { accept: 'text/html,application/xhtml+xml' };

describe('the auth decision', () => {
  test('routes: open, none, the gateway’s own paths, and upgrades where a route takes none', () => {
    assert.equal(decideNow('/x').kind, 'pass');
    assert.deepEqual(decideNow('/auth/login'), { kind: 'not-found', authPath: true });
    assert.deepEqual(decideNow('/flat/x', { cookie }, true), { kind: 'not-found', authPath: false });
    assert.equal(decideNow('/flat/x', { cookie }).kind, 'admit');
  });

  test('no credential: a browser is sent to sign in, a script or an api route gets a challenge', () => {
    const browser = decideNow('/app/page?q=1', BROWSER);
    assert.equal(browser.kind, 'sign-in');
    if (browser.kind === 'sign-in')
      assert.equal(browser.location, 'https://apps.example.com/auth/login?return_to=%2Fapp%2Fpage%3Fq%3D1');
    assert.deepEqual(decideNow('/app/page', JSON_ACCEPT), {
      kind: 'challenge',
      route: snapshot.table.routes[1],
      loginUrl: 'https://apps.example.com/auth/login?return_to=%2Fapp%2Fpage',
      bearer: true,
    });
    assert.equal(decideNow('/api/x', BROWSER).kind, 'challenge');
    const ops = decideNow('/ops', JSON_ACCEPT);
    assert.ok(ops.kind === 'challenge' && !ops.bearer, 'no WWW-Authenticate where tokens are not taken');
  });

  test('admitted: the principal, claims, assertion, and which credential was consumed', () => {
    const byToken = decideNow('/app/x', { authorization: 'Bearer hgw_good' });
    assert.ok(byToken.kind === 'admit');
    assert.equal(byToken.consumedAuthorization, true);
    assert.equal(byToken.assertion, 'signed:ann:app');
    const bySession = decideNow('/app/x', { cookie, authorization: 'Bearer hgw_good' });
    assert.ok(bySession.kind === 'admit');
    assert.equal(bySession.principal.method, 'password');
    assert.equal(bySession.consumedAuthorization, false, 'the session admitted it, not the token');
    assert.equal(decideNow('/app/x', { authorization: 'Bearer hgw_bad' }, false).kind, 'challenge');
  });

  test('a missing claim is forbidden, naming who was refused', () => {
    const d = decideNow('/ops', { cookie });
    assert.ok(d.kind === 'forbidden');
    assert.equal(d.principal.user.username, 'ann');
  });

  test('upgrades: a cookie only from a page of ours, a token from anywhere', () => {
    assert.equal(decideNow('/app/ws', { cookie }, true).kind, 'forbidden');
    assert.equal(decideNow('/app/ws', { cookie, origin: 'https://evil.example' }, true).kind, 'forbidden');
    assert.equal(decideNow('/app/ws', { cookie, origin: 'https://apps.example.com' }, true).kind, 'admit');
    assert.equal(decideNow('/app/ws', { cookie, origin: 'https://gw.example.com' }, true).kind, 'admit');
    assert.equal(
      decideNow('/app/ws', { authorization: 'Bearer hgw_good', origin: 'https://evil.example' }, true).kind,
      'admit',
    );
  });
});
