// The same server started N times, one after another: CPU time per request of each start, to see whether a
// process's cost depends on how it started (a gateway process has been seen to run at 1.6–2.5× the CPU per
// request of another start of the same code and config, for its whole life). Usage:
//   node --import tsx bench/starts.ts [N]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMicros } from './cpu.ts';
import { runLoad } from './load.ts';
import { type Running, startBareProxy, startServe, startUpstream } from './processes.ts';

const N = Number(process.argv[2] ?? 6);
const upstream = await startUpstream();
const upstreamUrl = upstream.url;

async function measure(label: string, start: () => Promise<Running>): Promise<void> {
  for (let i = 0; i < N; i++) {
    const server = await start();
    try {
      await runLoad({ url: `${server.url}/x`, connections: 50, duration: 2 });
      const before = cpuMicros(server.pid);
      const r = await runLoad({ url: `${server.url}/x`, connections: 50, duration: 5 });
      const after = cpuMicros(server.pid);
      const cpu =
        before === null || after === null ? 'n/a' : ((after - before) / r.requests.total).toFixed(0);
      console.log(`${label} start ${i + 1}: ${Math.round(r.requests.mean)} req/s, ${cpu} µs CPU/req`);
    } finally {
      await server.stop();
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'hero-starts-'));
try {
  await measure('bare proxy', () => startBareProxy(upstreamUrl));
  writeFileSync(
    join(dir, 'gw.toml'),
    `[server]\nlisten = "127.0.0.1:0"\ndata_dir = ${JSON.stringify(dir)}\n[admin]\nlisten = ""\n` +
      `[[route]]\nname = "open"\nupstream = "${upstreamUrl}"\nauth = "none"\n`,
  );
  await measure('gateway', () => startServe(join(dir, 'gw.toml'), join(dir, 'access.log')));
} finally {
  await upstream.stop();
  rmSync(dir, { recursive: true, force: true });
}
