// The access log is written asynchronously in buffered chunks; no line may be lost for it. A gateway whose
// stdout is a pipe that nobody reads for a while answers N requests and is then stopped with SIGTERM: all N
// lines arrive. A gateway process that crashes writes out its buffer and the crash itself.
import assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BIN } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
/** Enough lines (~200 bytes each) to fill a pipe's 64 KiB several times over while it is not read. */
const N = 1200;
const PARALLEL = 20;

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

interface Gateway {
  child: Child;
  url: string;
  /** Everything the process wrote to stdout, complete once `exited` resolves. */
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: string | null; stderr: string }>;
}

/** Starts a process and resolves with the URL from its own "listening" line (it listens on port 0). */
function start(args: string[]): Promise<Gateway> {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stderr: err })),
  );
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /"url":"(http:\/\/[^"]+)".*"msg":"hero-gateway is listening"/.exec(out);
      if (!m) return;
      child.stdout.off('data', onData);
      resolve({ child, url: m[1] as string, stdout: () => out, exited });
    };
    child.stdout.on('data', onData);
    void exited.then((e) => reject(new Error(`exited before listening (${e.code}): ${e.stderr}${out}`)));
  });
}

/** N GETs, PARALLEL at a time, each answered 200 and read to the end. */
async function requests(url: string, n: number): Promise<void> {
  let next = 0;
  const one = async () => {
    while (next < n) {
      const i = next++;
      const res = await fetch(`${url}/app/${i}`);
      await res.arrayBuffer();
      assert.equal(res.status, 200);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, one));
}

const accessLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'request');

describe('access log', () => {
  let dir: string;
  let up: Upstream;
  before(async () => {
    dir = tempDir('hgw-access-');
    up = await startUpstream();
  });
  after(async () => {
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The default logging: log_level info, no log setting at all.
  const config = (name: string) => {
    const file = join(dir, `${name}.toml`);
    writeFileSync(
      file,
      `[server]\nlisten = "127.0.0.1:0"\ndata_dir = "${join(dir, name)}"\n[admin]\nlisten = ""\n` +
        `[[route]]\nname = "app"\npath = "/app"\nupstream = "${up.url}"\nauth = "none"\n`,
    );
    return file;
  };

  test('SIGTERM right after the last response: every request has its line, even through a stalled pipe', async () => {
    const gw = await start([BIN, 'serve', '-c', config('sigterm')]);
    // Nobody reads the pipe while the requests run: the gateway's writes back up behind it.
    gw.child.stdout.pause();
    await requests(gw.url, N);
    gw.child.kill('SIGTERM');
    gw.child.stdout.resume();
    const end = await gw.exited;
    assert.equal(end.code, 0, end.stderr);
    const lines = accessLines(gw.stdout());
    assert.equal(lines.length, N, 'one access line per request, none left in the buffer');
    assert.deepEqual(new Set(lines.map((l) => l.path)).size, N, 'each request once');
    const first = lines[0] as Record<string, unknown>;
    for (const key of ['reqId', 'method', 'path', 'host', 'status', 'route', 'ms'])
      assert.ok(key in first, `the line has ${key}`);
    assert.equal(first.route, 'app');
    assert.match(gw.stdout(), /"msg":"shutting down/);
  });

  test('a crash (an uncaught exception in the gateway process) writes out the buffer and the crash', async () => {
    // The gateway as `serve` runs it, in a process that throws once told to on stdin: the crash comes from
    // the same process, with no hook in the gateway for it.
    const script =
      `import { serve } from ${JSON.stringify(MAIN)};\n` +
      `await serve(${JSON.stringify(config('crash'))});\n` +
      `process.stdin.once('data', () => { throw new Error('deliberate crash'); });\n`;
    const gw = await start(['--import', 'tsx', '--input-type=module', '-e', script]);
    await requests(gw.url, N);
    gw.child.stdin.write('crash\n');
    const end = await gw.exited;
    assert.equal(end.code, 1, 'Node exits as it does on any uncaught exception');
    assert.match(end.stderr, /deliberate crash/, "Node's own crash report is still printed");
    assert.equal(accessLines(gw.stdout()).length, N, 'every access line was written before the exit');
    const crash = gw
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg?: string; level?: number; err?: { message?: string } })
      .find((l) => l.msg === 'crashed');
    assert.equal(crash?.level, 60, 'the crash is logged as fatal');
    assert.equal(crash?.err?.message, 'deliberate crash');
  });
});
