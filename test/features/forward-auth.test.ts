// Forward-auth behind a REAL nginx (auth_request) and a REAL Caddy (forward_auth), with the README's snippets:
// the proxy asks /auth/forward about each request and passes the identity headers on.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, send } from '../helpers/browser-client.ts';
import { freePort, waitFor } from '../helpers/cli.ts';
import { startGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
// CI installs nginx and Caddy; elsewhere the suite is skipped when they are missing, never silently in CI.
const skip = !process.env.CI && !(have('nginx') && have('caddy')) ? 'nginx or caddy is not installed' : false;

function nginxConf(dir: string, port: number, gateway: number, upstream: number): string {
  return `daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    # The gateway's own pages, on this host.
    location /auth/ { proxy_pass http://127.0.0.1:${gateway}; proxy_set_header Host $http_host; }
    location = /_hero_auth {
      internal;
      proxy_pass http://127.0.0.1:${gateway}/auth/forward;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
      proxy_set_header X-Original-Method $request_method;
    }
    location / {
      auth_request /_hero_auth;
      auth_request_set $hero_user $upstream_http_x_hero_user;
      auth_request_set $hero_email $upstream_http_x_hero_email;
      auth_request_set $hero_claims $upstream_http_x_hero_claims;
      auth_request_set $hero_context $upstream_http_x_hero_context;
      auth_request_set $hero_method $upstream_http_x_hero_auth_method;
      proxy_set_header X-Hero-User $hero_user;
      proxy_set_header X-Hero-Email $hero_email;
      proxy_set_header X-Hero-Claims $hero_claims;
      proxy_set_header X-Hero-Context $hero_context;
      proxy_set_header X-Hero-Auth-Method $hero_method;
      proxy_pass http://127.0.0.1:${upstream};
      error_page 401 = @hero_login;
    }
    location @hero_login { return 302 /auth/login?return_to=$request_uri; }
  }
}
`;
}

function caddyfile(dir: string, port: number, gateway: number, upstream: number): string {
  return `{
  admin off
  auto_https off
  storage file_system ${dir}/caddy
}
http://127.0.0.1:${port} {
  handle /auth/* {
    reverse_proxy 127.0.0.1:${gateway}
  }
  # route: in this order. Whatever a client sends as X-Hero-* is dropped first; forward_auth then sets them.
  route {
    request_header -X-Hero-*
    forward_auth 127.0.0.1:${gateway} {
      uri /auth/forward
      copy_headers X-Hero-User X-Hero-Email X-Hero-Claims X-Hero-Context X-Hero-Auth-Method
    }
    reverse_proxy 127.0.0.1:${upstream}
  }
}
`;
}

describe('forward-auth behind nginx and Caddy', { skip }, () => {
  let up: Upstream;
  let gw: TestGateway;
  let dir: string;
  const procs: ChildProcess[] = [];
  const proxies: Record<string, string> = {};

  before(async () => {
    up = await startUpstream();
    gw = await startGateway(
      `[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n[[route]]\nname = "open"\npath = "/open"\nupstream = "${up.url}"\nauth = "none"\n`,
      { server: 'trusted_proxies = ["127.0.0.1"]' },
    );
    await createUser(gw.store, {
      username: 'fay',
      email: 'fay@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    dir = tempDir('hgw-proxies-');
    for (const d of ['body', 'proxy', 'fcgi', 'uwsgi', 'scgi', 'caddy'])
      mkdirSync(join(dir, d), { recursive: true });
    const upPort = Number(new URL(up.url).port);
    const nginxPort = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, nginxPort, gw.port, upPort));
    procs.push(spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' }));
    const caddyPort = await freePort();
    writeFileSync(join(dir, 'Caddyfile'), caddyfile(dir, caddyPort, gw.port, upPort));
    procs.push(
      spawn('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
        stdio: 'ignore',
        env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      }),
    );
    proxies.nginx = `http://127.0.0.1:${nginxPort}`;
    proxies.caddy = `http://127.0.0.1:${caddyPort}`;
    await waitFor(`${proxies.nginx}/open`);
    await waitFor(`${proxies.caddy}/open`);
  });
  after(async () => {
    for (const p of procs) p.kill('SIGTERM');
    await gw.close();
    await up.close();
    if (existsSync(dir)) spawnSync('rm', ['-rf', dir]);
  });

  for (const proxy of ['nginx', 'caddy']) {
    test(`${proxy}: signed out → sign-in; signed in → the app gets the identity; spoofed headers never pass`, async () => {
      const base = proxies[proxy] as string;
      const anon = await send(`${base}/docs?x=1`, {
        headers: { accept: 'text/html', 'x-hero-user': 'root' },
      });
      assert.ok([302, 303].includes(anon.status), `${proxy}: ${anon.status}`);
      assert.match(
        anon.location ?? '',
        /\/auth\/login\?return_to=%2Fdocs%3Fx%3D1|\/auth\/login\?return_to=\/docs\?x=1/,
      );
      const script = await send(`${base}/docs`, { headers: { accept: 'application/json' } });
      assert.ok([302, 401].includes(script.status), `${proxy} script: ${script.status}`);
      const b = new BrowserClient(base);
      const signed = await b.signIn('fay', PASSWORD, '/docs');
      assert.equal(signed.status, 303, signed.body.slice(0, 200));
      const before = up.seen.length;
      const page = await b.get('/docs', { 'x-hero-user': 'root', 'x-hero-claims': 'gateway.admin' });
      assert.equal(page.status, 200);
      const seen = up.seen[before];
      assert.equal(seen?.headers['x-hero-user'], 'fay');
      assert.equal(seen?.headers['x-hero-email'], 'fay@example.com');
      assert.equal(seen?.headers['x-hero-claims'] ?? '', '');
      assert.equal(seen?.headers['x-hero-auth-method'], 'password');
      // An open route gets no identity, and a client's copy of the headers does not pass either.
      const n = up.seen.length;
      assert.equal(
        (
          await send(`${base}/open/x`, {
            headers: { 'x-hero-user': 'root', 'X-Hero-Claims': 'gateway.admin' },
          })
        ).status,
        200,
      );
      assert.equal(up.seen[n]?.headers['x-hero-user'] ?? '', '', 'no identity (Caddy passes it empty)');
      assert.equal(up.seen[n]?.headers['x-hero-claims'] ?? '', '');
    });
  }

  test('on an open route every identity header comes back empty, the assertion included', async () => {
    const res = await send(`${gw.url}/auth/forward`, {
      headers: { 'x-forwarded-uri': '/open/x', 'x-forwarded-host': 'app.example' },
    });
    assert.equal(res.status, 200);
    for (const h of ['x-hero-user', 'x-hero-claims', 'x-hero-assertion']) assert.equal(res.headers[h], '', h);
  });

  test('the answer is believed only from a trusted proxy: spoofed forwarding headers from anyone else are ignored', async () => {
    const direct = await startGateway(`[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "none"\n`);
    try {
      const res = await send(`${direct.url}/auth/forward`, {
        headers: {
          'x-forwarded-uri': '/x',
          'x-forwarded-host': 'app.example',
          'x-original-url': 'http://app.example/x',
        },
      });
      assert.equal(res.status, 400);
    } finally {
      await direct.close();
    }
  });
});
