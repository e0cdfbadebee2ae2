// The gateway as its own process with `workers = 1` and with `workers = 2`, each started as
// `hero-gateway serve` with an open route to the same upstream; both are rows of the main table, loaded in
// the same rotating rounds as the others.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep } from './load.ts';

const BIN = fileURLToPath(new URL('../bin/hero-gateway.js', import.meta.url));
export const WORKER_ROWS = ['gateway workers = 1', 'gateway workers = 2'] as const;

async function up(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`gateway at ${url} did not come up (exit ${child.exitCode}): ${stderr().slice(-600)}`);
}

export interface WorkerGateways {
  targets: Array<{ name: string; url: string; headers: Record<string, string>; pid: number | undefined }>;
  stop: () => Promise<void>;
}

export async function startWorkerGateways(upstream: string, dir: string): Promise<WorkerGateways> {
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        return exited;
      }),
    );
  };
  const targets: WorkerGateways['targets'] = [];
  try {
    for (const [i, name] of WORKER_ROWS.entries()) {
      const workers = i + 1;
      const port = await freePort();
      const home = join(dir, `workers-${workers}`);
      mkdirSync(home, { recursive: true });
      const file = join(home, 'gw.toml');
      writeFileSync(
        file,
        `[server]\nlisten = "127.0.0.1:${port}"\ndata_dir = "${home}"\nworkers = ${workers}\n` +
          `[admin]\nlisten = ""\n[[route]]\nname = "open"\nupstream = "${upstream}"\nauth = "none"\n`,
      );
      const child = spawn(process.execPath, [BIN, 'serve', '-c', file], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + String(d)).slice(-2000);
      });
      const url = `http://127.0.0.1:${port}/`;
      await up(url, child, () => stderr);
      targets.push({ name, url, headers: {}, pid: child.pid });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { targets, stop };
}
