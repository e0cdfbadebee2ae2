// `workers = N`: N processes (node:cluster) share the listen sockets. The primary prepares what must exist once
// (secret, signing keys, migrations) before forking, restarts a worker that dies, passes SIGHUP on, and on
// SIGTERM lets every worker shut down gracefully. All state that matters lives in the store, so sessions,
// throttles and revocations hold across workers.
import cluster, { type Worker } from 'node:cluster';
import { join } from 'node:path';
import { openStore } from './adapters/open-store.ts';
import type { Config } from './config/load.ts';
import { ensureSecret } from './config/secret.ts';
import { loadSigningKeys } from './crypto/signing-keys.ts';
import type { Logger } from './logger.ts';
import { systemClock } from './ports/clock.ts';

export async function runPrimary(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }> {
  ensureSecret(config);
  loadSigningKeys(join(config.server.data_dir, 'signing-keys.json'), systemClock.now());
  const store = openStore(config.store.url, systemClock); // applies pending migrations, once
  await store.close();

  let stopping = false;
  const fork = (index: number): Worker => {
    const worker = cluster.fork({ HERO_WORKER_INDEX: String(index) });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      logger.error({ worker: worker.process.pid, code, signal }, 'a worker died; starting another');
      workers[index] = fork(index);
    });
    return worker;
  };
  const workers: Worker[] = [];
  for (let i = 0; i < config.server.workers; i++) workers.push(fork(i));
  logger.info({ workers: config.server.workers }, 'started workers');

  process.on('SIGHUP', () => {
    for (const w of workers) w.process.kill('SIGHUP');
  });
  const stop = () => {
    stopping = true;
    return Promise.all(
      workers.map(
        (w) =>
          new Promise<number>((resolve) => {
            if (w.isDead()) return resolve(w.process.exitCode ?? 0);
            w.once('exit', (code) => resolve(code ?? 0));
            w.process.kill('SIGTERM');
          }),
      ),
    ).then((codes) => codes);
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => {
      stop().then((codes) => process.exit(codes.every((c) => c === 0) ? 0 : 1));
    });
  return {
    async stop() {
      await stop();
    },
  };
}
