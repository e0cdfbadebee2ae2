// Operating a running gateway: config reload from the file (also through a Kubernetes-style symlink swap)
// without dropping requests, a bad file changing nothing, and SIGTERM letting accepted requests finish.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';
import { type Served, startServe } from '../helpers/serve.ts';
import { until as untilTruthy } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

describe('operations', () => {
  let dir: string;
  let up: Upstream;
  /** The running gateway's address, read from its own output (it listens on port 0). */
  let base = '';
  let server: Served | null = null;

  const config = (routes: string[], extra = '') =>
    `[server]\nlisten = "127.0.0.1:0"\ndata_dir = "${dir}/data"\nlog_level = "warn"\n[admin]\nlisten = ""\n` +
    routes
      .map((r) => `[[route]]\nname = "${r}"\npath = "/${r}"\nupstream = "${up.url}"\nauth = "none"\n`)
      .join('') +
    extra;
  /** Replaces a file the way editors do: write a new one, rename it over the old. */
  const replace = (file: string, text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  const status = async (path: string) => (await fetch(`${base}${path}`)).status;
  const output = () => server?.output() ?? '';
  const until = (check: () => Promise<boolean>, ms = 8000) =>
    untilTruthy(check, { timeoutMs: ms, intervalMs: 50 }).then(
      () => true,
      () => false,
    );
  const start = async (file: string) => {
    server = await startServe(file);
    base = server.url;
  };
  const stop = async () => {
    const code = await server?.stop();
    server = null;
    return code;
  };

  before(async () => {
    dir = tempDir('hgw-ops-');
    up = await startUpstream();
  });
  after(async () => {
    await stop();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a changed file takes effect without dropping a request; a bad file changes nothing', async () => {
    const file = join(dir, 'gw.toml');
    writeFileSync(file, config(['one']));
    await start(file);
    let running = true;
    const statuses: number[] = [];
    const load = (async () => {
      while (running) statuses.push(await status('/one/x'));
    })();
    await untilTruthy(() => statuses.length > 0, { what: 'the first request of the load' });
    replace(file, config(['one', 'two']));
    assert.ok(await until(async () => (await status('/two/x')) === 200), 'the new route answers');
    replace(file, `${config(['one', 'two'])}bogus = 1\n`);
    await untilTruthy(() => /config reload refused/.test(output()), { what: 'the refused reload' });
    assert.equal(await status('/two/x'), 200, 'a bad file keeps the running config');
    assert.match(output(), /bogus/);
    running = false;
    await load;
    assert.ok(statuses.length > 20, `${statuses.length} requests during the reloads`);
    assert.deepEqual([...new Set(statuses)], [200], 'no request was dropped');
    assert.equal(await stop(), 0);
  });

  test('a Kubernetes-style symlink swap of the config directory is noticed', async () => {
    const base = join(dir, 'k8s');
    mkdirSync(join(base, 'v1'), { recursive: true });
    mkdirSync(join(base, 'v2'), { recursive: true });
    writeFileSync(join(base, 'v1', 'gw.toml'), config(['one']));
    writeFileSync(join(base, 'v2', 'gw.toml'), config(['one', 'three']));
    symlinkSync('v1', join(base, '..data'));
    symlinkSync(join('..data', 'gw.toml'), join(base, 'gw.toml'));
    await start(join(base, 'gw.toml'));
    assert.equal(await status('/three/x'), 404);
    symlinkSync('v2', join(base, '..data_tmp'));
    renameSync(join(base, '..data_tmp'), join(base, '..data'));
    assert.ok(await until(async () => (await status('/three/x')) === 200), 'the swapped-in config answers');
    assert.equal(await stop(), 0);
  });

  test('SIGTERM: requests accepted before the signal finish; the process exits 0', async () => {
    const file = join(dir, 'gw.toml');
    writeFileSync(file, config(['one']));
    await start(file);
    up.delayMs = 400;
    try {
      const seen = up.seen.length;
      const inFlight = Array.from({ length: 8 }, () => status('/one/slow'));
      // Accepted: all eight reached the upstream (which holds each for 400 ms) before the signal.
      await untilTruthy(() => up.seen.length - seen >= 8, { what: 'the upstream seeing all eight requests' });
      const code = stop();
      assert.deepEqual(await Promise.all(inFlight), Array(8).fill(200));
      assert.equal(await code, 0);
    } finally {
      up.delayMs = 0;
    }
  });

  test('SIGTERM: a connection that never sent a request does not hold the exit', async () => {
    const file = join(dir, 'gw.toml');
    writeFileSync(file, config(['one']));
    await start(file);
    // A client's spare connection: open, nothing sent. Node's idle sweep skips it until its 60 s headers timeout.
    const { port, hostname } = new URL(base);
    const spare = connect(Number(port), hostname);
    await new Promise((resolve) => spare.once('connect', resolve));
    spare.on('error', () => {});
    assert.equal(await status('/one/x'), 200);
    const t0 = performance.now();
    assert.equal(await stop(), 0);
    const ms = performance.now() - t0;
    spare.destroy();
    assert.ok(ms < 5000, `the exit took ${Math.round(ms)} ms`);
  });

  test('workers = 2: two processes share the socket; a token and its revocation hold across them', async () => {
    const file = join(dir, 'workers.toml');
    writeFileSync(
      file,
      config(['one']).replace('log_level = "warn"', 'log_level = "info"\nworkers = 2') +
        `[[route]]\nname = "app"\npath = "/app"\nupstream = "${up.url}"\nauth = "bearer"\n`,
    );
    const add = spawnSync(
      process.execPath,
      [BIN, 'user', 'add', 'wendy', '--email', 'wendy@example.com', '--no-password', '-c', file],
      { encoding: 'utf8' },
    );
    assert.equal(add.status, 0, add.stderr);
    const made = spawnSync(
      process.execPath,
      [BIN, 'token', 'create', '--user', 'wendy', '--name', 'w', '-c', file],
      { encoding: 'utf8' },
    );
    const token = made.stdout.trim();
    await start(file);
    // Each worker logs the address it got; Node's cluster gives every worker's listen(0) the same port: both
    // lines name it, and the primary's one line says it too (not the configured port 0).
    const listening = await untilTruthy(
      () => {
        const urls = output()
          .split('\n')
          .filter((l) => l.includes('"msg":"hero-gateway is listening"'))
          .map((l) => JSON.parse(l).url as string);
        return urls.length >= 2 && urls;
      },
      { what: 'both workers listening', timeoutMs: 30_000 },
    );
    assert.equal(new Set(listening).size, 1, `one shared socket: ${listening.join(', ')}`);
    base = listening[0] as string;
    assert.ok(output().includes(`hero-gateway listening on ${base}\n`), 'the primary names the real port');
    const call = () =>
      fetch(`${base}/app/x`, {
        headers: { authorization: `Bearer ${token}`, connection: 'close' },
      });
    const statuses = await Promise.all(Array.from({ length: 40 }, async () => (await call()).status));
    assert.deepEqual([...new Set(statuses)], [200]);
    // The access log is written asynchronously: await all forty lines before counting their processes.
    const requestLines = () =>
      output()
        .split('\n')
        .filter((l) => l.includes('"msg":"request"'));
    await untilTruthy(() => requestLines().length >= 40, { what: 'the forty access-log lines' });
    const pids = new Set(requestLines().map((l) => JSON.parse(l).pid));
    assert.equal(pids.size, 2, `requests served by ${pids.size} process(es)`);
    const id = /created (tok_\S+)/.exec(made.stderr)?.[1] as string;
    assert.equal(spawnSync(process.execPath, [BIN, 'token', 'revoke', id, '-c', file]).status, 0);
    const after = await Promise.all(Array.from({ length: 10 }, async () => (await call()).status));
    assert.deepEqual([...new Set(after)], [401], 'revoked in every worker');
    assert.equal(await stop(), 0);
  });
});
