// The gateway as its own process with `workers = 1` and with `workers = 2`, each started as
// `hero-gateway serve` with an open route to the same upstream; both are rows of the main table, loaded in
// the same rotating rounds as the others.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Running, startServe } from './processes.ts';

export const WORKER_ROWS = ['gateway workers = 1', 'gateway workers = 2'] as const;

export interface WorkerGateways {
  targets: Array<{ name: string; url: string; headers: Record<string, string>; pid: number | undefined }>;
  stop: () => Promise<void>;
}

export async function startWorkerGateways(upstream: string, dir: string): Promise<WorkerGateways> {
  const running: Running[] = [];
  const stop = async () => {
    await Promise.all(running.map((r) => r.stop()));
  };
  try {
    for (const workers of [1, 2]) {
      const home = join(dir, `workers-${workers}`);
      mkdirSync(home, { recursive: true });
      const file = join(home, 'gw.toml');
      writeFileSync(
        file,
        `[server]\nlisten = "127.0.0.1:0"\ndata_dir = "${home}"\nworkers = ${workers}\n` +
          `[admin]\nlisten = ""\n[[route]]\nname = "open"\nupstream = "${upstream}"\nauth = "none"\n`,
      );
      running.push(await startServe(file, join(home, 'access.log')));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    targets: running.map((r, i) => ({
      name: WORKER_ROWS[i] as string,
      url: `${r.url}/`,
      headers: {},
      pid: r.pid,
    })),
    stop,
  };
}
