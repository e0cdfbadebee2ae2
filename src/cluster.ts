// `workers = N`: N processes (node:cluster) share the listen sockets. The primary prepares what must exist once
// (secret, migrations, the first signing key) before forking, starts the first worker alone (a start that
// fails — a busy port, an unusable certificate — fails once, reported by the primary as one line), restarts a
// worker that dies later, passes SIGHUP on, and on SIGTERM lets every worker shut down gracefully. All state
// that matters lives in the store, so sessions, throttles, revocations and signing keys hold across workers.
import cluster, { type Worker } from 'node:cluster';
import { readLegacySigningKeys } from './adapters/legacy-signing-keys.ts';
import { openConfiguredStore } from './adapters/open-store.ts';
import type { Config } from './config/load.ts';
import { ensureSecret } from './config/secret.ts';
import type { Logger } from './logger.ts';
import { systemClock } from './ports/clock.ts';
import { SigningKeyRing } from './services/signing-keys.ts';

/** How long the primary waits before starting again a replacement worker that could not start. */
const RESTART_RETRY_MS = 5_000;

/** Where a worker listens, as it bound it (a configured port 0 is a real port here). */
export interface Listening {
  url: string;
  adminUrl: string | null;
}

type StartMessage =
  | ({ hero: 'ready' } & Listening)
  | { hero: 'start-failed'; message: string; code?: string };

/** In a worker: tells the primary that every listener is up, and where. */
export function reportReady(where: Listening): void {
  if (cluster.isWorker) process.send?.({ hero: 'ready', ...where } satisfies StartMessage);
}

/**
 * In a worker: hands a failed start to the primary and exits without printing — the primary reports it, once
 * (N workers would print the same line N times). Never resolves.
 */
export function reportStartFailure(err: unknown): Promise<never> {
  const e = err as NodeJS.ErrnoException;
  const message: StartMessage = {
    hero: 'start-failed',
    message: e?.message ?? String(err),
    ...(e?.code ? { code: e.code } : {}),
  };
  return new Promise(() => {
    process.send?.(message, () => process.exit(2));
  });
}

/** Resolves when the worker reports ready; rejects with its start failure, or when it exits first. */
function started(worker: Worker): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: StartMessage) => {
      if (m?.hero === 'ready') {
        done();
        resolve({ url: m.url, adminUrl: m.adminUrl });
      } else if (m?.hero === 'start-failed') {
        done();
        reject(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`a worker exited while starting (${signal ?? `exit code ${code}`})`));
    };
    const done = () => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
}

export async function runPrimary(
  config: Config,
  logger: Logger,
): Promise<Listening & { stop(): Promise<void> }> {
  const { secret } = ensureSecret(config);
  const store = await openConfiguredStore(config.store.url, systemClock); // applies pending migrations, once
  try {
    // The first signing key (or the import of the old key file), once; a store whose keys another secret
    // sealed is reported here as one line rather than by every worker.
    await SigningKeyRing.open({
      store,
      clock: systemClock,
      secret,
      legacyKeys: () => readLegacySigningKeys(config.server.data_dir),
    });
  } finally {
    await store.close();
  }

  let stopping = false;
  const retries = new Set<NodeJS.Timeout>();
  const workers: Worker[] = [];
  const fork = (index: number): Promise<Listening> => {
    const worker = cluster.fork({ HERO_WORKER_INDEX: String(index) });
    workers[index] = worker;
    return started(worker).then((where) => {
      worker.once('exit', (code, signal) => {
        if (stopping) return;
        logger.error({ worker: worker.process.pid, code, signal }, 'a worker died; starting another');
        restart(index);
      });
      return where;
    });
  };
  const restart = (index: number) => {
    fork(index).catch((err: Error) => {
      if (stopping) return;
      logger.error(
        { error: err.message, retry_in_ms: RESTART_RETRY_MS },
        'a replacement worker could not start; trying again',
      );
      const t = setTimeout(() => {
        retries.delete(t);
        if (!stopping) restart(index);
      }, RESTART_RETRY_MS);
      retries.add(t);
    });
  };
  const stop = () => {
    stopping = true;
    for (const t of retries) clearTimeout(t);
    return Promise.all(
      workers.map(
        (w) =>
          new Promise<number>((resolve) => {
            if (w.isDead()) return resolve(w.process.exitCode ?? 0);
            w.once('exit', (code) => resolve(code ?? 0));
            w.process.kill('SIGTERM');
          }),
      ),
    );
  };

  // Installed before the first fork: a signal while the workers start must not kill the primary alone.
  process.on('SIGHUP', () => {
    for (const w of workers) if (!w.isDead()) w.process.kill('SIGHUP');
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => {
      stop().then((codes) => process.exit(codes.every((c) => c === 0) ? 0 : 1));
    });
  let where: Listening;
  try {
    // The workers share the first one's sockets, so its addresses are everyone's.
    where = await fork(0);
    await Promise.all(Array.from({ length: config.server.workers - 1 }, (_, i) => fork(i + 1)));
  } catch (err) {
    // Stopped by a signal while starting: the handler above exits once the workers have.
    if (stopping) return new Promise(() => {});
    await stop();
    throw err;
  }
  logger.info({ workers: config.server.workers }, 'started workers');
  return {
    ...where,
    async stop() {
      await stop();
    },
  };
}
