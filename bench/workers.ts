// The gateway as one process and as two (`workers = 2`), each started as `hero-gateway serve` in its own
// process group, driven with the same load on an open route.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, freePort, log, type Row, runLoad, sleep, toRow } from './load.ts';

const BIN = fileURLToPath(new URL('../bin/hero-gateway.js', import.meta.url));

async function up(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${url} did not come up`);
}

export interface WorkerRows {
  one: Row;
  two: Row;
  ratio: number;
}

export async function measureWorkers(
  upstream: string,
  dir: string,
  timing: { warmup: number; duration: number; connections: number },
): Promise<WorkerRows> {
  const rows: Row[] = [];
  for (const workers of [1, 2]) {
    const port = await freePort();
    const home = join(dir, `workers-${workers}`);
    mkdirSync(home, { recursive: true });
    const file = join(home, 'gw.toml');
    writeFileSync(
      file,
      `[server]\nlisten = "127.0.0.1:${port}"\ndata_dir = "${home}"\nworkers = ${workers}\n` +
        `[admin]\nlisten = ""\n[[route]]\nname = "open"\nupstream = "${upstream}"\nauth = "none"\n`,
    );
    const child = spawn(process.execPath, [BIN, 'serve', '-c', file], { stdio: 'ignore' });
    try {
      const url = `http://127.0.0.1:${port}/`;
      await up(url);
      log(
        `workers ${workers}: warm-up ${timing.warmup}s, then ${timing.duration}s × ${timing.connections} connections`,
      );
      await runLoad({ url, connections: timing.connections, duration: timing.warmup });
      rows.push(
        toRow(
          `${workers} worker${workers > 1 ? 's' : ''}`,
          await runLoad({ url, connections: timing.connections, duration: timing.duration }),
        ),
      );
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
  const [one, two] = rows as [Row, Row];
  return { one, two, ratio: two.rps / one.rps };
}

export function printWorkers(w: WorkerRows, cpus: number): void {
  console.log(
    `\ngateway as separate processes, open route (${cpus} CPUs shared with the upstream and the load)`,
  );
  for (const r of [w.one, w.two])
    console.log(
      `  ${r.target.padEnd(12)}${fmt(r.rps).padStart(8)} req/s   p50 ${fmt(r.p50)} ms   p99 ${fmt(r.p99)} ms${r.flagged ? '  FLAGGED' : ''}`,
    );
  console.log(`  2 workers / 1 worker: ${fmt(w.ratio, 3)}`);
}
