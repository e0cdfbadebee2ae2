#!/usr/bin/env node
// `npm start`: the demo. Runs the whoami app and the gateway with config.example.toml, and says what to open.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/hero-gateway.js', import.meta.url));
const config = 'config.example.toml';
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
  try    curl -i http://localhost:8080/api/   401: route "api" needs an API token (auth = "bearer")
  token  TOKEN=$(npx hero-gateway token create -c ${config} --user demo --name try)
         curl -H "Authorization: Bearer $TOKEN" http://localhost:8080/api/
         → the app sees X-Hero-User: demo, X-Hero-Claims, X-Hero-Context: api …
  admin  http://127.0.0.1:8081/readyz
  stop   Ctrl-C

`);
}, 1500);
