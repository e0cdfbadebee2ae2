// One hostile request, three ways in: proxied, asked about through /auth/forward (as nginx, Traefik and Caddy
// name it), and as a WebSocket upgrade. All three must reach the same decision, and what the recording
// upstream receives must agree with it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type RawResponse, rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const ROUTES = (up: string) => `
[[route]]
name = "open"
path = "/"
upstream = "${up}"
auth = "none"

[[route]]
name = "admin"
path = "/admin"
upstream = "${up}"
auth = "local"
`;

const HOST = 'apps.example.com';

// [Host, request-target, expected decision]: "admit", or "<status> <code>".
const CASES: [string, string, string][] = [
  [HOST, '/x/y', 'admit'],
  [HOST, '/admin/secret', '401 auth_required'],
  [HOST, '/ADMIN/secret', '401 auth_required'],
  [HOST, '/Admin/Secret', '401 auth_required'],
  [HOST, '/admin;x/secret', '401 auth_required'],
  [HOST, '/admin;jsessionid=1/secret', '401 auth_required'],
  [HOST, '/%61dmin/secret', '401 auth_required'],
  [HOST, '/open/../admin/secret', '400 bad_path'],
  [HOST, '/open/%2e%2e/admin/secret', '400 bad_path'],
  [HOST, '/open/%252e%252e/admin/secret', '400 bad_path'],
  [HOST, '/%2561dmin/secret', '400 bad_path'],
  [HOST, '/open/..;/admin/secret', '400 bad_path'],
  [HOST, '/open%2fadmin', '400 bad_path'],
  [HOST, '/open%252fadmin', '400 bad_path'],
  [HOST, '/open%255cadmin', '400 bad_path'],
  [HOST, '/;x/admin/secret', '400 bad_path'],
  [HOST, '/adm%C4%B1n/secret', '400 bad_path'],
  [HOST, '//admin/secret', '400 bad_path'],
  [`${HOST}:80\\open#`, '/admin/secret', '400 bad_host'],
  [`${HOST}?`, '/admin/secret', '400 bad_host'],
  [`user@${HOST}`, '/admin/secret', '400 bad_host'],
  [HOST, '/auth/anything', '404 not_found'],
  [HOST, '/AUTH/login', '404 not_found'],
  [HOST, '/auth;x/login', '404 not_found'],
];

const codeOf = (r: RawResponse) => {
  try {
    return (JSON.parse(r.body) as { code?: string }).code ?? '?';
  } catch {
    return '?';
  }
};

describe('the same decision on every path in', () => {
  let up: Upstream;
  const gws: Record<string, TestGateway> = {};

  before(async () => {
    up = await startUpstream();
    for (const kind of ['nginx', 'traefik', 'caddy'])
      gws[kind] = await startGateway(`[forward_auth]\nheaders = "${kind}"\n${ROUTES(up.url)}`, {
        server: 'trusted_proxies = ["127.0.0.1"]',
      });
  });
  after(async () => {
    for (const gw of Object.values(gws)) await gw.close();
    await up.close();
  });

  /** Sends one request and says what happened: admitted to the upstream, or refused with a status and code. */
  async function decide(port: number, lines: string[], upstreamDecides: boolean): Promise<string> {
    const before = up.seen.length;
    const res = await rawRequest(
      port,
      [...lines, 'Accept: application/json', 'Connection: close', '', ''].join('\r\n'),
    );
    if (upstreamDecides) return up.seen.length > before ? 'admit' : `${res.status} ${codeOf(res)}`;
    assert.equal(up.seen.length, before, 'forward-auth never forwards');
    return res.status === 200 ? 'admit' : `${res.status} ${codeOf(res)}`;
  }

  for (const [host, target, expected] of CASES) {
    test(`${JSON.stringify(host)} ${JSON.stringify(target)} → ${expected}`, async () => {
      const port = (gws.nginx as TestGateway).port;
      const got: Record<string, string> = {
        proxy: await decide(port, [`GET ${target} HTTP/1.1`, `Host: ${host}`], true),
        websocket: await decide(
          port,
          [
            `GET ${target} HTTP/1.1`,
            `Host: ${host}`,
            'Upgrade: websocket',
            'Connection: Upgrade',
            'Sec-WebSocket-Version: 13',
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          ],
          true,
        ),
        nginx: await decide(
          port,
          [
            'GET /auth/forward HTTP/1.1',
            'Host: 127.0.0.1',
            `X-Original-URL: http://${host}${target}`,
            'X-Original-Method: GET',
          ],
          false,
        ),
      };
      for (const kind of ['traefik', 'caddy'])
        got[kind] = await decide(
          (gws[kind] as TestGateway).port,
          [
            'GET /auth/forward HTTP/1.1',
            'Host: 127.0.0.1',
            'X-Forwarded-Method: GET',
            'X-Forwarded-Proto: http',
            `X-Forwarded-Host: ${host}`,
            `X-Forwarded-Uri: ${target}`,
          ],
          false,
        );
      assert.deepEqual(got, {
        proxy: expected,
        websocket: expected,
        nginx: expected,
        traefik: expected,
        caddy: expected,
      });
    });
  }
});
