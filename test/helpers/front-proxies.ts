// A REAL nginx (auth_request) and a REAL Caddy (forward_auth) in front of a gateway and an app, configured with
// the README's snippets: forward-auth tests go through exactly what operators are told to deploy.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from './cli.ts';
import { tempDir } from './gateway.ts';

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
/** CI installs nginx and Caddy; elsewhere such suites are skipped when they are missing, never in CI. */
export const skipWithoutProxies =
  !process.env.CI && !(have('nginx') && have('caddy')) ? 'nginx or caddy is not installed' : false;

/** The README's nginx snippet: `gateway` serves /auth/ and answers /auth/forward, `app` is the upstream. */
export function nginxServer(gateway: number, app: number): string {
  return `
    location /auth/ {
      proxy_pass http://127.0.0.1:${gateway};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
    location = /_hero_auth {
      internal;
      proxy_pass http://127.0.0.1:${gateway}/auth/forward;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$host$request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
    location / {
      auth_request /_hero_auth;
      auth_request_set $hero_user $upstream_http_x_hero_user;
      auth_request_set $hero_email $upstream_http_x_hero_email;
      auth_request_set $hero_claims $upstream_http_x_hero_claims;
      auth_request_set $hero_context $upstream_http_x_hero_context;
      auth_request_set $hero_method $upstream_http_x_hero_auth_method;
      auth_request_set $hero_assertion $upstream_http_x_hero_assertion;
      proxy_set_header X-Hero-User $hero_user;
      proxy_set_header X-Hero-Email $hero_email;
      proxy_set_header X-Hero-Claims $hero_claims;
      proxy_set_header X-Hero-Context $hero_context;
      proxy_set_header X-Hero-Auth-Method $hero_method;
      proxy_set_header X-Hero-Assertion $hero_assertion;
      proxy_set_header X-Original-URL "";
      proxy_set_header X-Rewrite-URL "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_pass http://127.0.0.1:${app};
      error_page 401 = @hero_login;
    }
    location @hero_login { return 302 /auth/login?return_to=$request_uri; }`;
}

/** The README's Caddy snippet. */
export function caddySite(gateway: number, app: number): string {
  return `
  handle /auth/* {
    reverse_proxy 127.0.0.1:${gateway}
  }
  route {
    request_header -X-Hero-*
    request_header -X-Hero_*
    request_header -X_hero-*
    request_header -X_hero_*
    request_header -X-Original-Url
    request_header -X-Rewrite-Url
    forward_auth 127.0.0.1:${gateway} {
      uri /auth/forward
      copy_headers X-Hero-User X-Hero-Email X-Hero-Claims X-Hero-Context X-Hero-Auth-Method X-Hero-Assertion
    }
    reverse_proxy 127.0.0.1:${app}
  }`;
}

/**
 * What deployments made from the earlier README look like: nginx building X-Original-URL from `$http_host`
 * (the raw Host), and Caddy with no header hygiene at all. The gateway must hold by itself behind both.
 */
const legacyNginxServer = (gateway: number, app: number) => `
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
      proxy_set_header X-Hero-User $hero_user;
      proxy_pass http://127.0.0.1:${app};
      error_page 401 = @hero_login;
    }
    location @hero_login { return 302 /auth/login?return_to=$request_uri; }`;
const bareCaddySite = (gateway: number, app: number) => `
  handle /auth/* {
    reverse_proxy 127.0.0.1:${gateway}
  }
  route {
    forward_auth 127.0.0.1:${gateway} {
      uri /auth/forward
      copy_headers X-Hero-User X-Hero-Email X-Hero-Claims X-Hero-Context X-Hero-Auth-Method
    }
    reverse_proxy 127.0.0.1:${app}
  }`;

export interface FrontProxies {
  nginx: string;
  caddy: string;
  /** nginx with X-Original-URL built from the raw Host header. */
  nginxLegacy: string;
  /** Caddy with forward_auth and nothing else. */
  caddyBare: string;
  close(): void;
}

/** Starts nginx in front of `gateways.nginx` and Caddy in front of `gateways.caddy`, both proxying to `app`. */
export async function startFrontProxies(
  gateways: { nginx: number; caddy: number },
  app: number,
): Promise<FrontProxies> {
  const dir = tempDir('hgw-proxies-');
  for (const d of ['body', 'proxy', 'fcgi', 'uwsgi', 'scgi', 'caddy'])
    mkdirSync(join(dir, d), { recursive: true });
  const procs: ChildProcess[] = [];
  // Ports probed free beforehand (a small race, unavoidable here): nginx and Caddy take their listen ports
  // only from their config files and do not print the port they got, so port 0 could not be read back.
  const [nginxPort, nginxLegacyPort, caddyPort, caddyBarePort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log crit;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${nginxPort};
${nginxServer(gateways.nginx, app)}
  }
  server {
    listen 127.0.0.1:${nginxLegacyPort};
${legacyNginxServer(gateways.nginx, app)}
  }
}
`,
  );
  procs.push(spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' }));
  writeFileSync(
    join(dir, 'Caddyfile'),
    `{
  admin off
  auto_https off
  storage file_system ${dir}/caddy
}
http://127.0.0.1:${caddyPort} {
${caddySite(gateways.caddy, app)}
}
http://127.0.0.1:${caddyBarePort} {
${bareCaddySite(gateways.caddy, app)}
}
`,
  );
  procs.push(
    spawn('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
      stdio: 'ignore',
      env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    }),
  );
  const proxies = {
    nginx: `http://127.0.0.1:${nginxPort}`,
    caddy: `http://127.0.0.1:${caddyPort}`,
    nginxLegacy: `http://127.0.0.1:${nginxLegacyPort}`,
    caddyBare: `http://127.0.0.1:${caddyBarePort}`,
  };
  for (const url of Object.values(proxies)) await waitFor(`${url}/auth/login`);
  return {
    ...proxies,
    close() {
      for (const p of procs) p.kill('SIGTERM');
      if (existsSync(dir)) spawnSync('rm', ['-rf', dir]);
    },
  };
}
