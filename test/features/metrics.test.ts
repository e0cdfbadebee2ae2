// /metrics on the admin listener: Prometheus text that counts what the gateway did.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, send } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';

/** Prometheus text exposition: every line is a comment, blank, or `name{labels} value`. Returns the samples. */
function parseProm(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(
        line,
      );
    assert.ok(m, `not Prometheus text: ${JSON.stringify(line)}`);
    samples.set(m[1] as string, Number(m[2]));
  }
  return samples;
}

describe('metrics', () => {
  let up: Upstream;
  let gw: TestGateway;

  before(async () => {
    up = await startUpstream();
    gw = await startGateway(
      `[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n[[route]]\nname = "open"\npath = "/open"\nupstream = "${up.url}"\nauth = "none"\n`,
      { admin: true },
    );
    await createUser(gw.store, {
      username: 'mia',
      email: 'mia@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  test('/metrics parses as Prometheus text and counts requests, decisions, sign-ins and sessions', async () => {
    await send(`${gw.url}/open/a`);
    await send(`${gw.url}/open/b`);
    await send(`${gw.url}/private`, { headers: { accept: 'application/json' } });
    const b = new BrowserClient(gw.url);
    await b.signIn('mia', 'wrong password here');
    await b.signIn('mia', PASSWORD, '/');
    await b.get('/private');
    const res = await gw.gateway.admin!.inject('/metrics');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const m = parseProm(res.body);
    assert.equal(m.get('hero_requests_total{route="open",status="200",decision="forwarded"}'), 2);
    assert.equal(m.get('hero_requests_total{route="app",status="401",decision="auth_required"}'), 1);
    assert.equal(m.get('hero_requests_total{route="app",status="200",decision="forwarded"}'), 1);
    assert.equal(m.get('hero_sign_ins_total{method="password",outcome="failed"}'), 1);
    assert.equal(m.get('hero_sign_ins_total{method="password",outcome="ok"}'), 1);
    assert.equal(m.get('hero_sessions_active'), 1);
    assert.equal(m.get('hero_mail_outbox_depth'), 0);
    assert.equal(m.get('hero_upstream_duration_seconds_count{route="open"}'), 2);
    assert.ok((m.get('hero_process_resident_memory_bytes') ?? 0) > 0);
  });
});
