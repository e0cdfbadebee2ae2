// The access log reaches its file in large chunks: every asynchronous write is a round trip through libuv's
// thread pool, so a line-sized or page-sized write per few requests costs the gateway thread wake-ups that a
// proxy without a log does not pay.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger, flushLogger, logDestination, writeInfoLine } from '../../src/logger.ts';
import { tempDir } from '../helpers/gateway.ts';

test('access lines written one per request go out in chunks of tens of kilobytes', async () => {
  const dir = tempDir('hgw-chunks-');
  try {
    const file = join(dir, 'access.log');
    const dest = logDestination(file);
    let writes = 0;
    (dest as unknown as NodeJS.EventEmitter).on('write', () => {
      writes++;
    });
    const logger = createLogger('info', dest);
    const lines = 3000;
    for (let i = 0; i < lines; i++) {
      const fields = `,"reqId":"req-${i}","route":"app","method":"GET","path":"/app/${i}","status":200,"ms":1.2`;
      assert.equal(writeInfoLine(logger, fields, 'request'), true);
      // Requests arrive over time, not in one synchronous burst: let pending writes complete between them.
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    await flushLogger(logger);
    const text = readFileSync(file, 'utf8');
    assert.equal(text.split('\n').filter(Boolean).length, lines, 'every line is in the file');
    // At most one write per 32 KiB, plus the final flush; 4 KiB chunks would take about eight times as many.
    const bound = Math.ceil(Buffer.byteLength(text) / (32 * 1024)) + 1;
    assert.ok(writes <= bound, `${writes} writes for ${Buffer.byteLength(text)} bytes (at most ${bound})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
