// One contender in a race: a worker thread with its own connection to the shared store (a SQLite file, or a
// PostgreSQL database). It prepares,
// reports "armed", blocks on the shared barrier until the pool releases every contender at once, then runs
// its operation and reports the outcome. The operations are the ones the store promises to serialize.
import { parentPort, workerData } from 'node:worker_threads';
import { createPostgresStore } from '../../src/adapters/postgres/index.ts';
import { createSqliteStore } from '../../src/adapters/sqlite/index.ts';
import { type Store, StoreConflictError } from '../../src/ports/store.ts';
import { FirstRunSetup } from '../../src/services/setup.ts';
import { storeVariant } from './mutants.ts';
import type { RaceOp, WorkerMessage } from './race-pool.ts';

const { barrier, size } = workerData as {
  barrier: SharedArrayBuffer;
  size: number;
};
// [0]: the start gate (a generation the pool bumps); [1]: arrivals at the steps of the current race.
const gate = new Int32Array(barrier);
let steps = 0;

/**
 * Waits until every contender reaches the same step, so each attempt of a race starts together rather than
 * drifting apart after the first one. Spins briefly (release within microseconds), then sleeps on the counter.
 */
function step(): void {
  const target = ++steps * size;
  if (Atomics.add(gate, 1, 1) + 1 >= target) {
    Atomics.notify(gate, 1);
    return;
  }
  for (let spins = 0; ; spins++) {
    const arrived = Atomics.load(gate, 1);
    if (arrived >= target) return;
    if (spins > 20_000) Atomics.wait(gate, 1, arrived, 5);
  }
}
const port = parentPort!;
let store: Store | null = null;

async function run(s: Store, op: RaceOp): Promise<unknown> {
  switch (op.kind) {
    case 'consume': {
      const won: boolean[] = [];
      for (const hash of op.hashes) {
        step();
        won.push((await s.oneTimeTokens.consume(hash, 'setup', op.now)) !== null);
      }
      return won;
    }
    case 'charge': {
      let admitted = 0;
      for (let i = 0; i < op.attempts; i++) {
        step();
        const wait = await s.throttles.charge(
          [
            {
              key: op.key,
              next: (prev) => {
                const failures = (prev?.failures ?? 0) + 1;
                return {
                  failures,
                  lastFailureAt: op.now,
                  blockedUntil: failures >= op.limit ? op.now + 60_000 : 0,
                };
              },
            },
          ],
          op.now,
        );
        if (wait === 0) admitted++;
      }
      return admitted;
    }
    case 'update': {
      for (let i = 0; i < op.attempts; i++) {
        step();
        await s.throttles.update(op.key, (prev) => ({
          failures: (prev?.failures ?? 0) + 1,
          lastFailureAt: op.now,
          blockedUntil: 0,
        }));
      }
      return op.attempts;
    }
    case 'first-signing-key': {
      step();
      return s.signingKeys.addIfEmpty([
        {
          kid: op.kid,
          createdAt: op.now,
          activeFrom: op.now,
          publicJwk: { kty: 'EC', crv: 'P-256', x: op.kid, y: op.kid },
          sealedPrivateJwk: `v1.${op.kid}`,
        },
      ]);
    }
    case 'setup-link': {
      step();
      return (await new FirstRunSetup(s, { now: () => op.now }, op.secret).issueIfNeeded())?.token ?? null;
    }
    case 'create-user': {
      try {
        await s.users.create({ username: op.username, email: op.email, emailVerified: false });
        return 'created';
      } catch (err) {
        if (err instanceof StoreConflictError) return `conflict:${err.field}`;
        throw err;
      }
    }
  }
}

port.on('message', async (m: WorkerMessage) => {
  try {
    if (m.type === 'open') {
      await store?.close();
      const clock = { now: () => m.now };
      const opened = m.target.startsWith('postgres')
        ? await createPostgresStore({ url: m.target, clock, migrate: false, max: 2 })
        : createSqliteStore({ path: m.target, clock });
      store = storeVariant(opened, m.variant);
      port.postMessage({ type: 'opened' });
    } else if (m.type === 'close') {
      await store?.close();
      store = null;
      port.postMessage({ type: 'closed' });
    } else {
      steps = 0;
      port.postMessage({ type: 'armed' });
      Atomics.wait(gate, 0, m.generation); // released by the pool, together with every other contender
      port.postMessage({ type: 'done', value: await run(store!, m.op) });
    }
  } catch (err) {
    port.postMessage({ type: 'failed', error: String((err as Error)?.stack ?? err) });
  }
});
