// How `hero-gateway serve` starts: a start that fails (a busy port on any listener, with one process or
// several) exits non-zero with one line and no stack; a plain-http public_url that other machines reach is
// warned about once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';
import { startServe } from '../helpers/serve.ts';
import { until } from '../helpers/until.ts';

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `serve`; resolves when it exits, or kills it (code null) if it is still running after `ms`. */
function serveUntilExit(file: string, ms: number): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Occupies a port: listens on 0 and keeps it open (no probe-then-bind race), for the busy-port starts. */
async function hold(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const assertOneLine = (run: Ended, pattern: RegExp) => {
  assert.notEqual(run.code, 0, 'exits non-zero');
  assert.notEqual(run.code, null, `exits by itself (still running, killed): ${run.stderr}`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `stderr is one line:\n${run.stderr}`);
  assert.match(lines[0] ?? '', pattern);
  assert.doesNotMatch(run.stderr + run.stdout, /^\s+at /m, 'no stack frames');
  assert.doesNotMatch(run.stdout, /"err":|"stack":/, 'no error object in the log');
};

describe('serve start', () => {
  let dir: string;
  const held: Server[] = [];
  before(() => {
    dir = tempDir('hgw-start-');
  });
  after(async () => {
    for (const s of held) await new Promise((r) => s.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, server: string, admin = '') => {
    const file = join(dir, name);
    writeFileSync(
      file,
      `[server]\n${server}\ndata_dir = "${dir}/data-${name}"\nlog_level = "info"\n[admin]\nlisten = "${admin}"\n` +
        '[[route]]\nname = "app"\npath = "/"\nupstream = "http://127.0.0.1:9"\nauth = "none"\n',
    );
    return file;
  };

  test('the main port is taken: exit non-zero, one line naming the setting', async () => {
    const { server, port } = await hold();
    held.push(server);
    const run = await serveUntilExit(write('busy.toml', `listen = "127.0.0.1:${port}"`), 60_000);
    assertOneLine(run, new RegExp(`^error: server\\.listen 127\\.0\\.0\\.1:${port}: address already in use`));
  });

  test('the admin port is taken: the main listener and the store are closed again, so the process exits', async () => {
    const { server, port: adminPort } = await hold();
    held.push(server);
    const file = write('admin-busy.toml', 'listen = "127.0.0.1:0"', `127.0.0.1:${adminPort}`);
    const run = await serveUntilExit(file, 60_000);
    assertOneLine(
      run,
      new RegExp(`^error: admin\\.listen 127\\.0\\.0\\.1:${adminPort}: address already in use`),
    );
  });

  test('workers = 2 and the port is taken: the failed start is reported once, and the primary exits', async () => {
    const { server, port } = await hold();
    held.push(server);
    const file = write('workers-busy.toml', `listen = "127.0.0.1:${port}"\nworkers = 2`);
    const run = await serveUntilExit(file, 60_000);
    assertOneLine(run, new RegExp(`^error: server\\.listen 127\\.0\\.0\\.1:${port}: address already in use`));
  });

  test('a plain-http public_url on a LAN address: one warning to use https; none on loopback', async () => {
    // public_url's port is only text here: the warning is about its host.
    const lan = write('lan.toml', 'listen = "127.0.0.1:0"\npublic_url = "http://192.168.1.5:8080"');
    const run = await startServe(lan);
    // The warning is logged before the listening line; the log is written asynchronously, so await it.
    await until(() => /hero-gateway is listening/.test(run.stdout()), { what: 'the start-up log' });
    await run.stop();
    const warnings = run
      .stdout()
      .split('\n')
      .filter((l) => l.includes('public_url is plain http'));
    assert.equal(warnings.length, 1, run.stdout());
    const line = JSON.parse(warnings[0] ?? '{}');
    assert.equal(line.level, 40);
    assert.match(line.msg, /192\.168\.1\.5.*unencrypted.*use https.*tls_cert/);

    const local = write('local.toml', 'listen = "127.0.0.1:0"\npublic_url = "http://localhost:8080"');
    const quiet = await startServe(local);
    await until(() => /hero-gateway is listening/.test(quiet.stdout()), { what: 'the start-up log' });
    await quiet.stop();
    assert.match(quiet.stdout(), /hero-gateway is listening/);
    assert.doesNotMatch(quiet.stdout(), /plain http/);
  });
});
