// `npm start` as a newcomer meets it: the demo serves the file it names (edits take effect), says what to open
// only once everything answers, stops every process it started, and a busy port is one line, not a stack trace.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BrowserClient } from '../helpers/browser-client.ts';
import { tempDir } from '../helpers/gateway.ts';

const DEMO = fileURLToPath(new URL('../../scripts/demo.js', import.meta.url));

interface Demo {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

/** `node scripts/demo.js` in its own process group (so the test can tell that all its processes are gone). */
function runDemo(env: Record<string, string>): Demo {
  const proc = spawn(process.execPath, [DEMO], {
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const demo: Demo = {
    proc,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => proc.on('close', (code) => resolve(code))),
  };
  proc.stdout?.on('data', (d) => {
    demo.stdout += d;
  });
  proc.stderr?.on('data', (d) => {
    demo.stderr += d;
  });
  return demo;
}

/** Waits until `check` holds, trying again every 100 ms, for at most `ms`. */
async function until<T>(check: () => T | Promise<T>, ms: number, what: string): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True once no process of the group led by `pid` is left (the demo, its children, theirs). */
function groupGone(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const freePorts = {
  HERO_DEMO_PORT: '0',
  HERO_DEMO_ADMIN_PORT: '0',
  HERO_DEMO_APP_PORT: '0',
  HERO_DEMO_IDP_PORT: '0',
};

describe('npm start (the demo)', () => {
  const dir = tempDir('hgw-demo-');
  const file = join(dir, 'hero-gateway.toml');
  let demo: Demo;
  let base = '';

  before(async () => {
    demo = runDemo({ ...freePorts, HERO_DEMO_CONFIG: file });
    await Promise.race([
      until(() => demo.stdout.includes('hero-gateway demo is running'), 110_000, 'the banner'),
      demo.exited.then((code) => {
        throw new Error(`the demo exited (${code}): ${demo.stderr}`);
      }),
    ]);
    base = /^\s+open\s+(http:\/\/\S+)\/$/m.exec(demo.stdout)?.[1] ?? '';
  });
  after(() => {
    // Whatever went wrong above, leave no process of the demo behind.
    if (!groupGone(demo.proc.pid as number)) process.kill(-(demo.proc.pid as number), 'SIGKILL');
  });

  test('the banner comes once the gateway answers, names the served file and where mail goes', async () => {
    assert.match(base, /^http:\/\/localhost:\d+$/);
    assert.notEqual(base, 'http://localhost:8080', 'HERO_DEMO_PORT=0 means any free port, shown as it is');
    assert.match(
      demo.stdout,
      new RegExp(`^\\s+config\\s+${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
    );
    assert.match(demo.stdout, /^\s+mail\s+printed in this console by the gateway/m);
    assert.match(demo.stderr, /^hero-gateway listening on http:\/\/127\.0\.0\.1:\d+/m);
    const healthz = await fetch(`${base}/`, { headers: { accept: 'application/json' } });
    assert.equal(healthz.status, 200, 'the public route answers when the banner is shown');
    assert.ok(existsSync(join(dir, 'data')), 'the store lives beside the demo config, not in the repository');
  });

  test('signing in as demo with the printed password reaches /app/ as X-Hero-User: demo', async () => {
    const password = /password "([^"]+)"/.exec(demo.stdout)?.[1] as string;
    const browser = new BrowserClient(base);
    const signIn = await browser.signIn('demo', password, '/app/');
    assert.equal(signIn.status, 303, signIn.body.slice(0, 300));
    assert.equal(signIn.location, '/app/');
    const app = await browser.get('/app/', { accept: 'application/json' });
    assert.equal(app.status, 200);
    assert.equal(JSON.parse(app.body).headers['x-hero-user'], 'demo');
  });

  test('an edit of the served file takes effect: the open route now asks to sign in', async () => {
    const before = await new BrowserClient(base).get('/');
    assert.equal(before.status, 200);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^auth = "none"/m);
    writeFileSync(file, text.replace(/^auth = "none"/m, 'auth = "local"'));
    const sent = await until(
      async () => {
        const r = await new BrowserClient(base).get('/');
        return r.status >= 300 && r.status < 400 ? r : null;
      },
      30_000,
      'the reload',
    );
    assert.match(sent.location ?? '', /\/auth\/login/);
  });

  test('SIGTERM stops the demo and every process it started', async () => {
    const pid = demo.proc.pid as number;
    process.kill(pid, 'SIGTERM');
    assert.equal(await demo.exited, 0);
    await until(() => groupGone(pid), 15_000, 'the demo’s processes to end');
  });

  test('a second run keeps the edited file, and a port variable that disagrees with it is one line', async () => {
    const edited = readFileSync(file, 'utf8');
    const again = runDemo({ HERO_DEMO_CONFIG: file, HERO_DEMO_PORT: '1' });
    assert.equal(await again.exited, 1);
    assert.match(again.stderr, /^error: HERO_DEMO_PORT=1, but .* says \d+ — .*\n$/);
    assert.equal(readFileSync(file, 'utf8'), edited, 'the file is never overwritten');
  });
});

describe('npm start on a busy port', () => {
  let busy: Server;
  before(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  });
  after(() => new Promise<void>((r) => busy.close(() => r())));

  test('exits non-zero with one line naming the port and the variable, and leaves nothing running', async (t) => {
    const port = (busy.address() as { port: number }).port;
    const dir = tempDir('hgw-demo-busy-');
    const file = join(dir, 'hero-gateway.toml');
    const demo = runDemo({ ...freePorts, HERO_DEMO_CONFIG: file, HERO_DEMO_PORT: String(port) });
    t.after(() => {
      if (!groupGone(demo.proc.pid as number)) process.kill(-(demo.proc.pid as number), 'SIGKILL');
    });
    const code = await demo.exited;
    assert.notEqual(code, 0);
    assert.equal(
      demo.stderr,
      `error: port ${port} is in use — stop the other process or set HERO_DEMO_PORT\n`,
      'one line, no stack trace',
    );
    assert.doesNotMatch(demo.stdout, /demo is running/);
    await until(() => groupGone(demo.proc.pid as number), 15_000, 'the other processes to end');
    assert.equal(existsSync(file), false, 'a config that never ran is not kept');
  });
});
