// The config file watch: a busy neighbour in the same directory neither starves nor triggers a reload; the
// usual ways of saving (in place, rename-over, Kubernetes' ..data swap) are noticed.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { watchFiles } from '../../src/config/watch.ts';
import { tempDir } from '../helpers/gateway.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the time it took `check` to become true, or rejects after `ms`. */
async function until(check: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await sleep(20);
  }
  return Date.now() - start;
}

describe('config watch', () => {
  let dir: string;
  const stops: (() => void)[] = [];
  before(() => {
    dir = tempDir('hgw-watch-');
  });
  after(() => {
    for (const s of stops) s();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A file beside the config rewritten every 50 ms, like a busy log. Returns a stop function. */
  const busyNeighbour = (sub: string) => {
    let n = 0;
    const timer = setInterval(() => writeFileSync(join(sub, 'app.log'), `line ${n++}\n`), 50);
    return () => clearInterval(timer);
  };

  test('a neighbour rewritten every 50 ms does not postpone the reload of an edited config', async () => {
    const sub = join(dir, 'busy');
    mkdirSync(sub);
    const file = join(sub, 'gw.toml');
    writeFileSync(file, 'a = 1\n');
    let calls = 0;
    stops.push(watchFiles([file], () => calls++));
    const stopNeighbour = busyNeighbour(sub);
    stops.push(stopNeighbour);
    try {
      await sleep(300); // the neighbour is busy before the edit
      writeFileSync(file, 'a = 2\n');
      const took = await until(() => calls === 1, 2000);
      assert.ok(took < 2000, `reloaded after ${took} ms`);
    } finally {
      stopNeighbour();
    }
  });

  test('an edit to another file alone triggers nothing', async () => {
    const sub = join(dir, 'other');
    mkdirSync(sub);
    const file = join(sub, 'gw.toml');
    writeFileSync(file, 'a = 1\n');
    let calls = 0;
    stops.push(watchFiles([file], () => calls++, { debounceMs: 50, maxWaitMs: 200 }));
    const stopNeighbour = busyNeighbour(sub);
    writeFileSync(join(sub, 'gw.toml.swp'), 'editor state');
    await sleep(600); // several debounce windows: nothing may fire
    stopNeighbour();
    assert.equal(calls, 0);
  });

  test('a rename-over save (write a temporary file, rename it onto the config) triggers a reload', async () => {
    const sub = join(dir, 'rename');
    mkdirSync(sub);
    const file = join(sub, 'gw.toml');
    writeFileSync(file, 'a = 1\n');
    let calls = 0;
    stops.push(watchFiles([file], () => calls++));
    writeFileSync(join(sub, '.gw.toml.tmp'), 'a = 2\n');
    renameSync(join(sub, '.gw.toml.tmp'), file);
    await until(() => calls === 1, 2000);
  });

  test('a Kubernetes-style ..data swap triggers a reload', async () => {
    const base = join(dir, 'k8s');
    mkdirSync(join(base, 'v1'), { recursive: true });
    mkdirSync(join(base, 'v2'), { recursive: true });
    writeFileSync(join(base, 'v1', 'gw.toml'), 'a = 1\n');
    writeFileSync(join(base, 'v2', 'gw.toml'), 'a = 2\n');
    symlinkSync('v1', join(base, '..data'));
    symlinkSync(join('..data', 'gw.toml'), join(base, 'gw.toml'));
    let calls = 0;
    stops.push(watchFiles([join(base, 'gw.toml')], () => calls++));
    symlinkSync('v2', join(base, '..data_tmp'));
    renameSync(join(base, '..data_tmp'), join(base, '..data'));
    await until(() => calls === 1, 2000);
  });

  test('files in two directories (a config and a certificate) are both watched', async () => {
    const a = join(dir, 'conf');
    const b = join(dir, 'certs');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'gw.toml'), 'a = 1\n');
    writeFileSync(join(b, 'cert.pem'), 'one');
    let calls = 0;
    stops.push(watchFiles([join(a, 'gw.toml'), join(b, 'cert.pem')], () => calls++));
    writeFileSync(join(b, 'cert.pem'), 'two');
    await until(() => calls === 1, 2000);
    writeFileSync(join(a, 'gw.toml'), 'a = 2\n');
    await until(() => calls === 2, 2000);
  });
});
