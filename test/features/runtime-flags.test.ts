// `hero-gateway serve` turns off V8's allocation-site pretenuring for its whole life (bin/hero-gateway.js says
// why: in about a third of starts it moved per-request objects to the old generation, at ~1.7x the CPU per
// request). V8 traces every pretenuring decision it takes when asked to; a gateway under load must take none.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';
import { SERVE_LINE, startListening } from '../helpers/serve.ts';
import { startUpstream } from '../helpers/upstream.ts';

test('a serving gateway takes no pretenuring decision under load', async () => {
  const dir = tempDir('hgw-flags-');
  const up = await startUpstream();
  const file = join(dir, 'gw.toml');
  writeFileSync(
    file,
    `[server]\nlisten = "127.0.0.1:0"\ndata_dir = "${dir}"\nlog_level = "warn"\n[admin]\nlisten = ""\n` +
      `[[route]]\nname = "app"\npath = "/app"\nupstream = "${up.url}"\nauth = "none"\n`,
  );
  const gw = await startListening(['--trace-pretenuring-statistics', BIN, 'serve', '-c', file], SERVE_LINE);
  try {
    const url = gw.url.replace(/\/$/, '');
    // Enough requests for many young-generation collections, each of which reports on allocation sites.
    let next = 0;
    const worker = async () => {
      while (next++ < 4000) {
        const res = await fetch(`${url}/app/x`);
        await res.arrayBuffer();
        assert.equal(res.status, 200);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
  } finally {
    await gw.stop();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const decisions = gw
    .stdout()
    .split('\n')
    .filter((l) => l.includes('pretenuring:'));
  assert.deepEqual(decisions.slice(0, 3), [], `${decisions.length} pretenuring lines`);
});
