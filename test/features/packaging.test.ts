// The ways people install and run the gateway, checked without a Docker engine or systemd: the image's
// Dockerfile and bundled config (run here with the image's own start command and environment), the compose
// example, the systemd unit, the licence, and Node versions (no installed package refuses the running Node).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BrowserClient, send } from '../helpers/browser-client.ts';
import { BIN } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';
import { satisfies } from '../helpers/node-range.ts';
import { SERVE_LINE, type Served, startListening } from '../helpers/serve.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

const dockerfile = instructions(read('Dockerfile'));
const finalStage = dockerfile.slice(dockerfile.findLastIndex((i) => i.op === 'FROM'));
const execForm = (op: string): string[] => JSON.parse(finalStage.find((i) => i.op === op)?.args ?? '[]');
const imageEnv: Record<string, string> = Object.fromEntries(
  finalStage
    .filter((i) => i.op === 'ENV')
    .flatMap((i) => [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)].map((m) => [m[1], m[2]])),
);
const bundled = read('docker/hero-gateway.toml');

describe('the container image', () => {
  test('every stage starts from an LTS Node (an even major, 22 or later: 20 reached its end of life)', () => {
    const froms = dockerfile.filter((i) => i.op === 'FROM').map((i) => i.args);
    assert.ok(froms.length >= 2, 'a build stage and a runtime stage');
    for (const from of froms) {
      const major = Number(/^node:(\d+)/.exec(from)?.[1]);
      assert.ok(major >= 22 && major % 2 === 0, `FROM ${from}`);
    }
  });

  test('every COPY source exists, and the bundled config is what HERO_GATEWAY_CONFIG names', () => {
    const copies = dockerfile.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'));
    assert.ok(copies.length > 0);
    for (const copy of copies) {
      const paths = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of paths.slice(0, -1))
        assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: no such file`);
    }
    assert.ok(
      copies.some((c) => c.args === `docker/hero-gateway.toml ${imageEnv.HERO_GATEWAY_CONFIG}`),
      'the bundled config lands where HERO_GATEWAY_CONFIG points',
    );
  });

  test('it runs `serve` and puts the hero-gateway command on the PATH for `docker exec -it`', () => {
    assert.deepEqual(execForm('ENTRYPOINT'), ['node', 'bin/hero-gateway.js']);
    assert.deepEqual(execForm('CMD'), ['serve']);
    assert.ok(
      finalStage.some(
        (i) =>
          i.op === 'RUN' &&
          /ln -s \/app\/bin\/hero-gateway\.js \/usr\/local\/bin\/hero-gateway\b/.test(i.args),
      ),
    );
    assert.equal(finalStage.find((i) => i.op === 'WORKDIR')?.args, '/app');
    assert.notEqual(finalStage.findLast((i) => i.op === 'USER')?.args ?? 'root', 'root');
  });

  test('every environment reference of the bundled config has a default in the image, so it starts with no -e at all', () => {
    const names = [...bundled.matchAll(/^[^#\n]*\$\{([A-Z_][A-Z0-9_]*)\}/gm)].map((m) => m[1] as string);
    assert.ok(names.includes('HERO_GATEWAY_DATA_DIR') && names.includes('HERO_GATEWAY_LISTEN'));
    for (const name of names) assert.ok(imageEnv[name], `${name} has no ENV default in the Dockerfile`);
    assert.equal(imageEnv.HERO_GATEWAY_DATA_DIR, '/data');
    assert.ok(finalStage.some((i) => i.op === 'VOLUME' && i.args.includes('"/data"')));
  });
});

describe('the compose example', () => {
  const compose = read('docker/compose.yaml');
  /** The block of one service: its indented lines under `  name:`. */
  const service = (name: string) =>
    new RegExp(`^  ${name}:\\n((?:    .*\\n|\\s*\\n)+)`, 'm').exec(compose)?.[1] ?? '';

  test('runs the gateway with PUBLIC_URL, an upstream that exists, and a volume for /data', () => {
    const gateway = service('gateway');
    assert.match(gateway, /^\s+PUBLIC_URL: http/m);
    assert.match(gateway, /^\s+- "127\.0\.0\.1:8080:8080"$/m);
    const volume = /^\s+- ([\w-]+):\/data$/m.exec(gateway)?.[1];
    assert.ok(volume, 'a named volume on /data');
    assert.match(compose, new RegExp(`^volumes:\\n  ${volume}:`, 'm'));
    const upstream = new URL(/^\s+UPSTREAM_URL: (\S+)$/m.exec(gateway)?.[1] ?? '');
    const app = service(upstream.hostname);
    assert.ok(app, `a service named ${upstream.hostname}`);
    assert.match(
      app,
      new RegExp(`command: \\["whoami-upstream", "--listen", "0\\.0\\.0\\.0:${upstream.port}"\\]`),
    );
  });

  test('builds from the repository (its Dockerfile) for every service', () => {
    for (const m of compose.matchAll(/^\s+context: (\S+)\n\s+dockerfile: (\S+)$/gm))
      assert.ok(existsSync(join(ROOT, 'docker', m[1] as string, m[2] as string)), m[0]);
    assert.equal([...compose.matchAll(/^\s+build:$/gm)].length, 2);
  });
});

describe('the bundled config, started as the image starts it', () => {
  let up: Upstream;
  let gateway: Served;
  let base = '';
  let env: NodeJS.ProcessEnv;

  before(async () => {
    up = await startUpstream();
    // The image's environment, with what a deployment (or this test) sets: where to listen, the volume, the app.
    // Port 0 for both listeners: the real addresses are read from the listening line. public_url's port is only
    // text in links here.
    env = {
      ...process.env,
      ...imageEnv,
      HERO_GATEWAY_CONFIG: join(ROOT, 'docker/hero-gateway.toml'),
      HERO_GATEWAY_LISTEN: '127.0.0.1:0',
      HERO_GATEWAY_ADMIN_LISTEN: '127.0.0.1:0',
      HERO_GATEWAY_DATA_DIR: tempDir('hgw-docker-'),
      PUBLIC_URL: 'http://127.0.0.1:8080',
      UPSTREAM_URL: up.url,
    };
    const [cmd, ...args] = [...execForm('ENTRYPOINT'), ...execForm('CMD')];
    assert.equal(cmd, 'node');
    gateway = await startListening(args, SERVE_LINE, { cwd: ROOT, env });
    base = gateway.url;
    // The HEALTHCHECK reads the admin address from the environment, as the container's would be set.
    env.HERO_GATEWAY_ADMIN_LISTEN = new URL(gateway.adminUrl ?? '').host;
  });
  after(async () => {
    await gateway?.stop();
    await up.close();
  });

  test("the image's HEALTHCHECK command passes", () => {
    const check = JSON.parse(
      /^HEALTHCHECK .*?CMD (\[.*\])$/m.exec(read('Dockerfile').replace(/\\\n\s*/g, ''))?.[1] ?? '[]',
    );
    assert.equal(check[0], 'node');
    const run = spawnSync(process.execPath, check.slice(1), { env, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
  });

  test('the API route answers a script without a token with 401 problem+json', async () => {
    const res = await send(`${base}/api/items`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 401);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  });

  test('a browser is sent to sign in, and an account made with `hero-gateway user add` gets in', async () => {
    const browser = new BrowserClient(base);
    const first = await browser.get('/');
    assert.equal(first.status, 303);
    assert.match(first.location ?? '', /^(http:\/\/127\.0\.0\.1:\d+)?\/auth\/login/);
    const add = spawnSync(
      process.execPath,
      [BIN, 'user', 'add', 'alice', '--email', 'alice@example.com', '--password-stdin'],
      { env, input: 'a long enough password', encoding: 'utf8' },
    );
    assert.equal(add.status, 0, add.stderr);
    assert.equal((await browser.signIn('alice', 'a long enough password', '/')).status, 303);
    const app = await browser.get('/');
    assert.equal(app.status, 200);
    assert.equal(up.seen.at(-1)?.headers['x-hero-user'], 'alice');
  });
});

describe('licence and Node versions', () => {
  test('LICENSE is the MIT licence that package.json names', () => {
    const pkg = JSON.parse(read('package.json'));
    assert.equal(pkg.license, 'MIT');
    assert.match(read('LICENSE'), /^MIT License\n\nCopyright \(c\) \d{4} hero-gateway contributors\n/);
    assert.match(read('LICENSE'), /THE SOFTWARE IS PROVIDED "AS IS"/);
  });

  test('engines.node admits the running Node and the LTS lines, and not the ended ones', () => {
    const range = JSON.parse(read('package.json')).engines.node as string;
    assert.ok(satisfies(process.version, range), `${process.version} is outside ${range}`);
    for (const v of ['20.19.0', '22.12.0', '24.0.0', '24.11.1'])
      assert.ok(satisfies(v, range), `${v}: ${range}`);
    for (const v of ['18.20.8', '20.18.0', '21.7.3', '22.11.0'])
      assert.ok(!satisfies(v, range), `${v}: ${range}`);
  });

  test('the range check itself tells ranges apart (so the checks below can fail)', () => {
    assert.ok(!satisfies('20.20.2', '>=22'));
    assert.ok(satisfies('20.20.2', '20.x || 22.x || 24.x'));
    assert.ok(!satisfies('21.0.0', '^16 || ^18 || >=22'));
    assert.ok(satisfies('20.20.2', '>= 10.x') && satisfies('20.20.2', '10.* || >= 12.*'));
    assert.ok(!satisfies('20.18.0', '>=20.18.1') && satisfies('20.20.2', '>=9.4.0 || ^8.9.4'));
  });

  test('no package in the lock file refuses the running Node (npm install prints no EBADENGINE)', () => {
    const lock = JSON.parse(read('package-lock.json'));
    const refused = Object.entries(
      lock.packages as Record<string, { version?: string; engines?: { node?: string } }>,
    )
      .filter(([path, p]) => path !== '' && p.engines?.node && !satisfies(process.version, p.engines.node))
      .map(([path, p]) => `${path}@${p.version}: node ${p.engines?.node}`);
    assert.deepEqual(refused, []);
  });

  test('no installed package refuses the running Node', () => {
    const refused: string[] = [];
    const walk = (dir: string) => {
      for (const entry of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
        if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        if (entry.name.startsWith('@')) {
          walk(path);
          continue;
        }
        const manifest = join(path, 'package.json');
        if (existsSync(manifest)) {
          const p = JSON.parse(readFileSync(manifest, 'utf8'));
          if (p.engines?.node && !satisfies(process.version, p.engines.node))
            refused.push(`${p.name}@${p.version}: node ${p.engines.node}`);
        }
        walk(join(path, 'node_modules'));
      }
    };
    walk(join(ROOT, 'node_modules'));
    assert.deepEqual(refused, []);
  });
});

describe('the systemd unit', () => {
  const text = read('deploy/hero-gateway.service');
  /** Each section's settings; a key given twice keeps every value, as systemd does for lists. */
  const unit: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (l === '' || l.startsWith('#') || l.startsWith(';')) continue;
    const head = /^\[(\w+)\]$/.exec(l);
    if (head) {
      section = head[1] as string;
      unit[section] = {};
      continue;
    }
    const eq = l.indexOf('=');
    assert.ok(section && eq > 0, `not a setting: ${l}`);
    const settings = unit[section] as Record<string, string[]>;
    const key = l.slice(0, eq);
    settings[key] = [...(settings[key] ?? []), l.slice(eq + 1)];
  }
  const get = (s: string, key: string) => unit[s]?.[key]?.at(-1);
  const service = (key: string) => get('Service', key);

  test('has the three sections and starts after the network is up', () => {
    assert.deepEqual(Object.keys(unit), ['Unit', 'Service', 'Install']);
    assert.match(get('Unit', 'After') ?? '', /\bnetwork-online\.target\b/);
    assert.match(get('Unit', 'Wants') ?? '', /\bnetwork-online\.target\b/);
    assert.equal(get('Install', 'WantedBy'), 'multi-user.target');
  });

  test('runs as its own user, reads its config from ConfigurationDirectory and keeps state in StateDirectory', () => {
    assert.ok(service('DynamicUser') === 'yes' || (service('User') && service('User') !== 'root'));
    const config = service('ConfigurationDirectory');
    const state = service('StateDirectory');
    assert.equal(config, 'hero-gateway');
    assert.equal(state, 'hero-gateway');
    const exec = (service('ExecStart') ?? '').split(/\s+/);
    assert.ok(exec[0]?.startsWith('/'), 'ExecStart needs an absolute path');
    assert.equal(exec[1], 'serve');
    assert.match(exec[exec.indexOf('-c') + 1] ?? '', new RegExp(`^/etc/${config}/[\\w.-]+\\.toml$`));
    assert.ok(text.includes(`data_dir = "/var/lib/${state}"`), 'the unit tells which data_dir to set');
    assert.match(service('ExecReload') ?? '', /^\/(usr\/)?bin\/kill -HUP \$MAINPID$/);
    assert.equal(service('Restart'), 'on-failure');
    assert.ok(Number.parseInt(service('TimeoutStopSec') ?? '0', 10) > 25, 'longer than the 25 s drain');
  });

  test('is sandboxed, but leaves the JIT its writable code pages', () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      LockPersonality: 'yes',
      RestrictNamespaces: 'yes',
      SystemCallArchitectures: 'native',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(service(key), value, key);
    assert.ok(['', 'CAP_NET_BIND_SERVICE'].includes(service('CapabilityBoundingSet') ?? 'unset'));
    assert.ok([undefined, 'no'].includes(service('MemoryDenyWriteExecute')), 'V8 needs W+X memory');
    // …and says why, in the comment right above the setting.
    const why = /((?:#.*\n)+)MemoryDenyWriteExecute=/.exec(text)?.[1] ?? '';
    assert.match(why, /\bJIT\b/);
  });
});
