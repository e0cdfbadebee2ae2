#!/usr/bin/env node
// `npm start`: the demo. Runs the whoami app, a demo identity provider and the gateway with config.example.toml
// (plus that provider), and says what to open.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/hero-gateway.js', import.meta.url));

// The demo's identity provider first: its issuer and client go into the config.
const idp = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo-idp.ts'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const provider = await new Promise((resolve, reject) => {
  idp.once('error', reject);
  idp.once('exit', (code) => reject(new Error(`the demo identity provider exited (${code})`)));
  idp.stdout.once('data', (d) => resolve(JSON.parse(String(d).split('\n')[0])));
}).catch((err) => {
  process.stderr.write(`${err.message}; is port 9000 free?\n`);
  process.exit(1);
});

// config.example.toml, plus the demo's own identity provider and a route only it signs in to.
const config = '.demo.toml';
writeFileSync(
  fileURLToPath(new URL(`../${config}`, import.meta.url)),
  `${readFileSync(fileURLToPath(new URL('../config.example.toml', import.meta.url)), 'utf8')}
# Added by \`npm start\`: the demo's identity provider (scripts/demo-idp.ts) and a route only it opens.
[[oidc]]
id = "demo"
name = "Demo SSO"
issuer = "${provider.issuer}"
client_id = "${provider.clientId}"
client_secret = "${provider.clientSecret}"
scopes = ["openid", "email", "profile", "groups"]
groups_claim = "groups"
auto_provision = true

[[route]]
name = "sso"
path = "/sso"
upstream = "http://127.0.0.1:3000"
auth = "oauth"
`,
);
const cli = (...args) =>
  spawnSync(process.execPath, [bin, ...args, '-c', config], { cwd: root, encoding: 'utf8' });

const check = cli('check');
if (check.status !== 0) {
  process.stderr.write(check.stderr);
  process.exit(1);
}
// A demo user to sign in as and to hang API tokens on (created once; the store lives in ./data).
const DEMO_PASSWORD = 'try the gateway 2026';
if (!/^demo\s/m.test(cli('user', 'list').stdout ?? '')) {
  const add = spawnSync(
    process.execPath,
    [bin, 'user', 'add', 'demo', '--email', 'demo@example.com', '--password-stdin', '-c', config],
    { cwd: root, encoding: 'utf8', input: DEMO_PASSWORD },
  );
  if (add.status !== 0) process.stderr.write(add.stderr);
}

const children = [
  idp,
  spawn(process.execPath, [bin, 'whoami-upstream', '--listen', '127.0.0.1:3000'], {
    cwd: root,
    stdio: 'inherit',
  }),
  spawn(process.execPath, [bin, 'serve', '-c', config], { cwd: root, stdio: 'inherit' }),
];
for (const child of children) {
  child.on('exit', (code) => {
    for (const other of children) if (other !== child) other.kill('SIGTERM');
    process.exitCode = code ?? 0;
  });
}
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    for (const c of children) c.kill('SIGTERM');
  });

setTimeout(() => {
  process.stdout.write(`
  hero-gateway demo is running

  open   http://localhost:8080/              the whoami app behind a public route (auth = "none")
  app    http://localhost:8080/app/          sign in as demo, password "${DEMO_PASSWORD}" (auth = "local");
                                             the app then sees X-Hero-User: demo. Your account: /auth/account
  sso    http://localhost:8080/sso/          goes straight to the demo's identity provider (auth = "oauth"):
                                             any name, any password; back here as <name>, X-Hero-Auth-Method: oidc:demo
  try    curl -i http://localhost:8080/api/   401: route "api" needs an API token (auth = "bearer")
  token  TOKEN=$(npx hero-gateway token create -c config.example.toml --user demo --name try)
         curl -H "Authorization: Bearer $TOKEN" http://localhost:8080/api/
         → the app sees X-Hero-User: demo, X-Hero-Claims, X-Hero-Context: api …
  admin  http://127.0.0.1:8081/readyz
  stop   Ctrl-C

`);
}, 1500);
