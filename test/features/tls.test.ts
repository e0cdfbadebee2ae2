// Native TLS: the gateway serves https from tls_cert/tls_key, takes a renewed certificate on reload (SIGHUP,
// or the files changing) without a restart, keeps its working certificate when the new one is unusable, and
// http_redirect sends plain-http visitors to public_url's origin — never to the Host they sent.
import assert from 'node:assert/strict';
import { copyFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpsGet, makeCert, type TestCert } from '../helpers/certs.ts';
import { cli, freePort } from '../helpers/cli.ts';
import { startGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { type Served, startServe } from '../helpers/serve.ts';
import { until as untilTruthy } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

/** Polls `get` until `ok` holds for its value; that value. */
async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  let last: T | undefined;
  await untilTruthy(
    async () => {
      last = await get();
      return ok(last);
    },
    { timeoutMs: ms, intervalMs: 100, what: 'the condition' },
  );
  return last as T;
}

/** Puts a certificate pair in place the way renewal tools do: new files renamed over the old ones. */
function install(from: TestCert, to: { cert: string; key: string }) {
  copyFileSync(from.key, `${to.key}.new`);
  copyFileSync(from.cert, `${to.cert}.new`);
  renameSync(`${to.key}.new`, to.key);
  renameSync(`${to.cert}.new`, to.cert);
}

/** A plain-http request with whatever Host the caller likes. */
function plainGet(
  port: number,
  path: string,
  host: string,
): Promise<{ status: number; location?: string; nosniff?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { host } }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          nosniff: String(res.headers['x-content-type-options']),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('native TLS (in process)', () => {
  let dir: string;
  let up: Upstream;
  let gw: TestGateway;
  let first: TestCert;
  let second: TestCert;
  let live: { cert: string; key: string };
  let url: string;

  before(async () => {
    dir = tempDir('hgw-tls-');
    up = await startUpstream();
    first = makeCert(join(dir, 'first'), 'first.test');
    second = makeCert(join(dir, 'second'), 'second.test');
    live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    install(first, live);
    gw = await startGateway(
      `[[route]]\nname = "app"\npath = "/app"\nupstream = "${up.url}"\nauth = "none"\n`,
      { server: `tls_cert = "${live.cert}"\ntls_key = "${live.key}"\npublic_url = "https://127.0.0.1:8443"` },
    );
    url = `https://127.0.0.1:${gw.port}`;
  });
  after(async () => {
    await gw?.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the main listener speaks https: a proxied request (proto https upstream) and the sign-in page', async () => {
    const proxied = await httpsGet(`${url}/app/x?q=1`, [first.pem]);
    assert.equal(proxied.status, 200);
    assert.equal(proxied.fingerprint, first.fingerprint);
    assert.equal(up.seen.at(-1)?.url, '/app/x?q=1');
    assert.equal(
      up.seen.at(-1)?.headers['x-forwarded-proto'],
      'https',
      'the gateway knows the request was https',
    );
    const signIn = await httpsGet(`${url}/auth/login`, [first.pem]);
    assert.equal(signIn.status, 200);
    assert.match(String(signIn.headers['content-type']), /text\/html/);
    assert.match(signIn.body, /<form/);
  });

  test('a renewed certificate is served to new connections after a reload, without a restart', async () => {
    install(second, live);
    const result = gw.gateway.reload();
    assert.deepEqual(result, { ok: true, restartNeeded: [] });
    const after = await httpsGet(`${url}/app/y`, [first.pem, second.pem]);
    assert.equal(after.status, 200);
    assert.equal(after.fingerprint, second.fingerprint);
    install(first, live); // back to the first pair for the next test
    assert.equal(gw.gateway.reload().ok, true);
    assert.equal((await httpsGet(`${url}/app/z`, [first.pem])).fingerprint, first.fingerprint);
  });

  test('an unusable pair on reload is refused with a clear problem; the working certificate stays', async () => {
    // The second certificate with the first key: a renewal that replaced only one file.
    copyFileSync(second.cert, live.cert);
    const mismatched = gw.gateway.reload();
    assert.equal(mismatched.ok, false);
    assert.ok(!mismatched.ok);
    assert.equal(mismatched.problems.length, 1);
    assert.match(
      mismatched.problems[0] ?? '',
      /^server\.tls_key: .*live\.key does not belong to the certificate/,
    );
    assert.equal((await httpsGet(`${url}/app/a`, [first.pem, second.pem])).fingerprint, first.fingerprint);

    unlinkSync(live.cert);
    const missing = gw.gateway.reload();
    assert.ok(!missing.ok);
    assert.match(missing.problems[0] ?? '', /^server\.tls_cert: cannot read .*live\.crt \(ENOENT\)/);

    writeFileSync(live.cert, 'not a certificate\n');
    const garbage = gw.gateway.reload();
    assert.ok(!garbage.ok);
    assert.match(garbage.problems[0] ?? '', /live\.crt is not a PEM certificate/);
    assert.equal((await httpsGet(`${url}/app/b`, [first.pem, second.pem])).fingerprint, first.fingerprint);
    install(first, live);
  });

  test('an unusable pair at start stops the start with one line naming the file', async () => {
    await assert.rejects(
      startGateway('', { server: `tls_cert = "${second.cert}"\ntls_key = "${first.key}"` }),
      (err: Error) => {
        assert.equal(err.name, 'TlsError');
        assert.doesNotMatch(err.message, /\n/);
        assert.match(err.message, /first\.key does not belong to the certificate in .*second\.crt/);
        return true;
      },
    );
  });
});

describe('native TLS (hero-gateway serve)', () => {
  let dir: string;
  let up: Upstream;
  let served: Served | null = null;
  /** Everything the running server wrote so far. */
  const output = () => served?.output() ?? '';
  let first: TestCert;
  let second: TestCert;
  let live: { cert: string; key: string };

  /** Starts `serve` (listening on port 0) and resolves once it listens. */
  const startListening = async (file: string) => {
    await stop(); // a test that failed midway leaves its server running: never leave a process behind
    served = await startServe(file);
    return served;
  };
  const stop = async () => {
    const code = (await served?.stop()) ?? null;
    served = null;
    return code;
  };
  const config = (port: number | string, extra = '') =>
    `[server]\nlisten = "127.0.0.1:${port}"\ndata_dir = "${dir}/data"\nlog_level = "info"\n` +
    `public_url = "https://gateway.example:8443"\ntls_cert = "live.crt"\ntls_key = "live.key"\n${extra}` +
    `[admin]\nlisten = ""\n[[route]]\nname = "app"\npath = "/app"\nupstream = "${up.url}"\nauth = "none"\n`;

  before(async () => {
    dir = tempDir('hgw-tls-serve-');
    up = await startUpstream();
    first = makeCert(join(dir, 'first'), 'first.test');
    second = makeCert(join(dir, 'second'), 'second.test');
    // Relative to the config file, as an operator would write them.
    live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
  });
  after(async () => {
    await stop();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('renewal tools rewriting the files are noticed without SIGHUP; http_redirect answers 308 to public_url', async () => {
    install(first, live);
    const file = join(dir, 'gw.toml');
    // The redirect listener's port is probed free beforehand (a small race): serve reports that listener's
    // configured port, not the one it got, so port 0 could not be read back there.
    const redirectPort = await freePort();
    writeFileSync(file, config(0, `http_redirect = "127.0.0.1:${redirectPort}"\n`));
    const { url } = await startListening(file);
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = [first.pem, second.pem];
    assert.equal((await httpsGet(`${url}/app/x`, ca)).fingerprint, first.fingerprint);

    install(second, live);
    await until(
      () => httpsGet(`${url}/app/x`, ca),
      (r) => r.fingerprint === second.fingerprint,
      10_000,
    );
    // The log is written asynchronously: the line may follow the first answer with the new certificate.
    await until(
      async () => output(),
      (o) => /"subject":"CN=second\.test"[^\n]*TLS certificate loaded/.test(o),
      5_000,
    );

    // A hostile Host changes nothing: the answer names public_url's origin, with the request's path and query.
    const redirected = await plainGet(redirectPort, '/app/page?x=1&y=%2F', 'evil.example');
    assert.equal(redirected.status, 308);
    assert.equal(redirected.nosniff, 'nosniff');
    assert.equal(redirected.location, 'https://gateway.example:8443/app/page?x=1&y=%2F');
    const absolute = await plainGet(redirectPort, 'http://evil.example/steal', 'evil.example');
    assert.equal(absolute.status, 308);
    assert.equal(absolute.location, 'https://gateway.example:8443/');
    const proxyLooking = await plainGet(redirectPort, '//evil.example/x', 'gateway.example');
    assert.equal(proxyLooking.location, 'https://gateway.example:8443//evil.example/x');
    assert.equal(
      up.seen.filter((s) => s.url.includes('page')).length,
      0,
      'the redirect listener proxies nothing',
    );

    // A broken pair on SIGHUP: one error line, the old certificate keeps being served.
    copyFileSync(first.key, live.key);
    const before = output();
    served?.child.kill('SIGHUP');
    await until(
      async () => output(),
      (o) => /config reload refused/.test(o.slice(before.length)),
      5_000,
    );
    assert.match(output().slice(before.length), /server\.tls_key: .*does not belong to the certificate/);
    assert.equal((await httpsGet(`${url}/app/x`, ca)).fingerprint, second.fingerprint);

    assert.equal(await stop(), 0);
    await assert.rejects(plainGet(redirectPort, '/', 'x'), 'the redirect listener is closed on shutdown');
  });

  test('workers = 2: every worker serves https and takes the renewed certificate', async () => {
    install(first, live);
    const file = join(dir, 'workers.toml');
    writeFileSync(file, config(0, 'workers = 2\n'));
    await startListening(file);
    await until(
      async () => output(),
      (o) => o.includes('started workers'),
      60_000,
    );
    // With workers the primary's line repeats the configured port (0); each worker logs the address it got,
    // and Node's cluster gives every worker's listen(0) the same port.
    const listening = await until(
      async () =>
        output()
          .split('\n')
          .filter((l) => l.includes('"msg":"hero-gateway is listening"'))
          .map((l) => JSON.parse(l).url as string),
      (urls) => urls.length >= 2,
    );
    assert.equal(new Set(listening).size, 1, `one shared socket: ${listening.join(', ')}`);
    const url = listening[0] as string;
    const ca = [first.pem, second.pem];
    const pids = (marker: string) =>
      new Set(
        output()
          .split('\n')
          .filter((l) => l.includes(marker))
          .map((l) => JSON.parse(l).pid),
      );
    assert.equal(pids('"subject":"CN=first.test"').size, 2, 'both workers serve https');
    install(second, live);
    // Each worker watches the files and loads the new pair itself.
    await until(
      async () => pids('"subject":"CN=second.test"').size,
      (n) => n === 2,
      15_000,
    );
    const all = await Promise.all(Array.from({ length: 12 }, () => httpsGet(`${url}/app/x`, ca)));
    assert.deepEqual([...new Set(all.map((r) => r.fingerprint))], [second.fingerprint]);
    assert.equal(await stop(), 0);
  });

  test('an unusable certificate at start: exit non-zero, one line naming the file', async () => {
    install(first, live);
    copyFileSync(second.cert, live.cert);
    const file = join(dir, 'bad.toml');
    writeFileSync(file, config(0).replace('log_level = "info"', 'log_level = "warn"'));
    const run = await cli(['serve', '-c', file]);
    assert.notEqual(run.code, 0);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(
      lines[0] ?? '',
      /^error: server\.tls_key: .*live\.key does not belong to the certificate in .*live\.crt/,
    );
    assert.doesNotMatch(run.stderr + run.stdout, /\n\s+at /);
  });
});
