// The README's "High availability (PostgreSQL)" section, run as written: its config file and its shell blocks
// (bash, `hero-gateway` on the PATH) bring up the app and two instances on one database. Only what a test must
// change is changed — a fresh database instead of the one the section creates, free ports instead of 8080…,
// a temporary directory, and the password on stdin (no terminal) — so when a command or a name in the README
// stops working, this fails. Then the two instances must be one installation: a session made on one is
// honoured by the other, and a sign-out on one, or a user disabled by the CLI, is refused by the other within
// a second.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BrowserClient, type Response } from '../helpers/browser-client.ts';
import { BIN, freePort } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { SERVE_LINE } from '../helpers/serve.ts';
import { until } from '../helpers/until.ts';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const HEADING = '## High availability (PostgreSQL)';
const PASSWORD = 'two instances, one database';

interface Block {
  lang: string;
  text: string;
}

/** The section's fenced code blocks, in order, de-indented (the steps are list items). */
function sectionBlocks(readme: string): Block[] {
  const start = readme.indexOf(`\n${HEADING}\n`);
  assert.ok(start >= 0, `README.md has a "${HEADING}" section`);
  const rest = readme.slice(start + HEADING.length + 2);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const blocks: Block[] = [];
  for (const m of section.matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```$/gm)) {
    const indent = (m[1] as string).length;
    const text = (m[3] as string)
      .split('\n')
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n');
    blocks.push({ lang: m[2] as string, text });
  }
  return blocks;
}

/** The one block of `lang` for which `has` holds; the README must have exactly one. */
function theBlock(blocks: Block[], lang: string, has: RegExp, what: string): Block & { index: number } {
  const found = blocks
    .map((b, index) => ({ ...b, index }))
    .filter((b) => b.lang === lang && has.test(b.text));
  assert.equal(found.length, 1, `the section has exactly one ${lang} block that ${what}`);
  return found[0] as Block & { index: number };
}

/** A bash run in its own process group (so everything it leaves running can be ended together). */
interface Shell {
  child: ChildProcess;
  output(): string;
  stdout(): string;
  /** The exit code, as soon as bash itself ends (what it started in the background may still run). */
  exited: Promise<number | null>;
  /** The exit code once everything it wrote is read: for blocks that leave nothing running. */
  done: Promise<number | null>;
}

describe('README: high availability with PostgreSQL, as written', () => {
  const dir = tempDir('hgw-ha-readme-');
  const envFile = join(dir, '.readme-env');
  const groups: number[] = [];
  let db: TestDatabase | null = null;
  let blocks: Block[];
  let configFile: string;
  /** README port → the free port used instead. */
  const ports = new Map<string, string>();
  let urlA = '';
  let urlB = '';

  /** bash with the shim first on the PATH; `script` runs after the environment the earlier blocks exported. */
  function shell(script: string, stdin = ''): Shell {
    const shim = join(dir, 'bin');
    const child = spawn(
      'bash',
      ['-e', '-c', `[ -f "$HA_ENV" ] && . "$HA_ENV"\n${script}\nexport -p > "$HA_ENV"`],
      {
        cwd: dir,
        env: { ...process.env, PATH: `${shim}:${process.env.PATH}`, HA_ENV: envFile },
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    if (child.pid) groups.push(child.pid);
    let all = '';
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      all += d;
    });
    child.stderr?.on('data', (d: Buffer) => {
      all += d;
    });
    child.stdin?.end(stdin);
    // 'exit', not 'close': processes the block started in the background keep the pipes open.
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    return { child, output: () => all, stdout: () => out, exited, done };
  }

  /** Ports in the README's text replaced by the free ones chosen for them. */
  function withPorts(text: string): string {
    return text.replace(/\b(127\.0\.0\.1|localhost):(\d{2,5})\b/g, (whole, host: string, port: string) => {
      const mapped = ports.get(port);
      return mapped ? `${host}:${mapped}` : whole;
    });
  }

  before(async () => {
    const readme = readFileSync(README, 'utf8');
    blocks = sectionBlocks(readme);
    const config = blocks.filter((b) => b.lang === 'toml');
    assert.equal(config.length, 1, 'the section has one config file');
    // Every port the blocks this test runs name (the database's is replaced with the whole store url).
    const run = blocks.filter((b) => b.lang === 'toml' || / serve -c |^hero-gateway user add /m.test(b.text));
    const named = run.map((b) => b.text.replace(/^url = "postgres.*$/gm, '')).join('\n');
    for (const m of named.matchAll(/\b(?:127\.0\.0\.1|localhost):(\d{2,5})\b/g))
      if (!ports.has(m[1] as string)) ports.set(m[1] as string, String(await freePort()));
    // `hero-gateway` on the PATH, as an installed package provides it: this checkout's command.
    const shimDir = join(dir, 'bin');
    mkdirSync(shimDir);
    writeFileSync(join(shimDir, 'hero-gateway'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(shimDir, 'hero-gateway'), 0o755);
    db = await createTestDatabase();
  });

  after(async () => {
    // Everything the blocks started (the app, both instances), then the database, even when a step failed.
    const alive = (g: number) => {
      try {
        process.kill(-g, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const g of groups) if (alive(g)) process.kill(-g, 'SIGTERM');
    const end = Date.now() + 15_000;
    while (groups.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    for (const g of groups) if (alive(g)) process.kill(-g, 'SIGKILL');
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the database step creates the database and role the config file names', () => {
    const create = theBlock(blocks, 'sh', /createdb/, 'creates the database');
    const config = theBlock(blocks, 'toml', /\[store\]/, 'is the config file');
    const url = /^url = "(postgres(?:ql)?:\/\/[^"]+)"$/m.exec(config.text)?.[1];
    assert.ok(url, 'the config file has a postgres:// store url');
    const { username, pathname } = new URL(url.replace(/\$\{\w+\}/g, 'x'));
    assert.match(
      create.text,
      new RegExp(`createuser\\b.*\\b${username}\\b`),
      'it creates the role of the url',
    );
    assert.match(
      create.text,
      new RegExp(`createdb\\b.*--owner ${username}\\b.*\\b${pathname.slice(1)}\\s*$`, 'm'),
      'it creates the database of the url, owned by that role',
    );
    assert.ok(create.index < config.index, 'the database comes first');
  });

  test('the config file and the start commands bring up two instances on one database', async () => {
    const config = theBlock(blocks, 'toml', /\[store\]/, 'is the config file');
    const start = theBlock(blocks, 'sh', / serve -c /, 'starts the instances');
    assert.ok(config.index < start.index, 'the config file comes before the commands that read it');
    const files = new Set([...start.text.matchAll(/ -c (\S+)/g)].map((m) => m[1]));
    assert.equal(files.size, 1, `every command reads one config file: ${[...files].join(', ')}`);
    configFile = join(dir, [...files][0] as string);
    // The one substitution in the file: this test's fresh database instead of the one the section creates.
    const text = withPorts(config.text).replace(/^url = "postgres(?:ql)?:\/\/[^"]+"$/m, `url = "${db?.url}"`);
    assert.notEqual(text, withPorts(config.text), 'the store url was replaced');
    writeFileSync(configFile, text);

    const sh = shell(withPorts(start.text));
    const code = await sh.exited;
    assert.equal(code, 0, `the commands ran without error:\n${sh.output()}`);
    // A command that fails (a taken port, a config problem) says so in one "error:" line: stop waiting then.
    const end = Date.now() + 90_000;
    let listening: RegExpMatchArray[] = [];
    for (;;) {
      const out = sh.output();
      assert.doesNotMatch(out, /^error: /m, `a command failed:\n${out}`);
      listening = [...out.matchAll(new RegExp(SERVE_LINE.source, 'g'))];
      if (listening.length >= 2 && /whoami-upstream listening on/.test(out)) break;
      assert.ok(Date.now() < end, `the app and both instances did not come up within 90 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const urls = listening.map((m) => m[1] as string);
    // A is the instance at public_url's address (where the setup link and mails point), B the other.
    const publicPort = /^public_url = "https?:\/\/[^/:"]+:(\d+)/m.exec(text)?.[1];
    const a = urls.find((u) => u.endsWith(`:${publicPort}`));
    assert.ok(a, `one instance listens at public_url's port ${publicPort}: ${urls.join(', ')}`);
    urlA = a;
    urlB = urls.find((u) => u !== a) as string;
    assert.ok(urlB && urlB !== urlA, 'two instances on two addresses');
  });

  test('the next commands answer: both ready, and the first administrator made by the CLI', async () => {
    assert.ok(urlA && urlB, 'both instances are up');
    const next = theBlock(blocks, 'sh', /^hero-gateway user add /m, 'creates the first user');
    // No terminal here to ask on: the password comes on stdin, as the CLI offers for scripts.
    const script = withPorts(next.text).replace(
      /^(.*\bhero-gateway user add\b[^#\n]*?)(\s*(#.*)?)$/m,
      '$1 --password-stdin$2',
    );
    const sh = shell(script, PASSWORD);
    assert.equal(await sh.done, 0, `the commands ran without error:\n${sh.output()}`);
    assert.equal(
      sh.stdout().match(/\{"status":"ready"\}/g)?.length,
      2,
      `both instances are ready:\n${sh.output()}`,
    );
  });

  /** GET as a script (problem+json, never a redirect): the app's echo with the identity, or the refusal. */
  const asScript = (b: BrowserClient, path: string, headers: Record<string, string> = {}) =>
    b.get(path, { accept: 'application/json', ...headers });
  const userSeen = (r: Response) =>
    r.status === 200
      ? (JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-hero-user']
      : null;

  test('a session made on instance A is honoured on B, and a sign-out on A is refused by B within a second', async () => {
    assert.ok(urlA && urlB, 'both instances are up');
    const onA = new BrowserClient(urlA);
    assert.equal((await onA.signIn('alice', PASSWORD, '/app/')).status, 303, 'signed in on A');
    assert.equal(userSeen(await asScript(onA, '/app/')), 'alice');
    // The same browser on B: the cookie is the database's session, not A's.
    const onB = new BrowserClient(urlB);
    for (const [k, v] of onA.jar) onB.jar.set(k, v);
    assert.equal(userSeen(await asScript(onB, '/app/')), 'alice', 'B admits the session made on A');

    const out = await onA.submit('/auth/logout', '/auth/logout', {});
    assert.equal(out.status, 200, 'signed out on A');
    assert.ok(
      out.setCookies.some((c) => /hero_session=;.*Max-Age=0/i.test(c)),
      out.setCookies.join('\n'),
    );
    const t0 = Date.now();
    await until(async () => (await asScript(onB, '/app/')).status === 401, {
      what: 'B to refuse the ended session',
      timeoutMs: 1000,
    });
    assert.ok(Date.now() - t0 <= 1000);
  });

  test('a user disabled by the CLI is refused on both instances within a second, session and API token alike', async () => {
    assert.ok(urlA && urlB, 'both instances are up');
    const onB = new BrowserClient(urlB);
    assert.equal((await onB.signIn('alice', PASSWORD, '/app/')).status, 303, 'signed in on B');
    const onA = new BrowserClient(urlA);
    for (const [k, v] of onB.jar) onA.jar.set(k, v);
    assert.equal(userSeen(await asScript(onA, '/app/')), 'alice', 'A admits the session made on B');

    const file = configFile.slice(dir.length + 1);
    const made = shell(`hero-gateway token create --user alice --name ha -c ${file}`);
    assert.equal(await made.done, 0, made.output());
    const token = made.stdout().trim();
    assert.match(token, /^hgw_/);
    const bearer = new BrowserClient(urlA);
    const api = (b: BrowserClient) => asScript(b, '/api/', { authorization: `Bearer ${token}` });
    assert.equal(userSeen(await api(bearer)), 'alice', 'the token works on A');
    assert.equal(userSeen(await api(new BrowserClient(urlB))), 'alice', 'and on B');

    const disable = shell(`hero-gateway user disable alice -c ${file}`);
    assert.equal(await disable.done, 0, disable.output());
    const t0 = Date.now();
    for (const [what, probe] of [
      ['the session on A', () => asScript(onA, '/app/')],
      ['the session on B', () => asScript(onB, '/app/')],
      ['the token on A', () => api(new BrowserClient(urlA))],
      ['the token on B', () => api(new BrowserClient(urlB))],
    ] as const)
      await until(async () => (await probe()).status === 401, {
        what: `${what} to be refused`,
        timeoutMs: Math.max(1, 1000 - (Date.now() - t0)),
      });
  });
});
