// Real parallelism for the store's concurrency promises: a pool of worker threads, each with its own
// connection to one SQLite file (WAL), armed for an operation and then released together through a shared
// barrier (SharedArrayBuffer + Atomics), so their statements interleave the way separate processes' would.
import { Worker } from 'node:worker_threads';
import type { StoreVariant } from './mutants.ts';
import type { RaceBackend } from './races.ts';

export type RaceOp =
  /** Consume each hash once, in order (purpose "setup"); answers which ones this contender won. */
  | { kind: 'consume'; hashes: string[]; now: number }
  /** `attempts` charges of one key whose counter blocks from `limit` failures on; answers how many got in. */
  | { kind: 'charge'; key: string; limit: number; attempts: number; now: number }
  /** `attempts` single-key counter updates (+1 each). */
  | { kind: 'update'; key: string; attempts: number; now: number }
  /** Create a user; answers "created" or "conflict:<field>". */
  | { kind: 'create-user'; username: string; email: string }
  /** Store a first signing key `kid` unless the store holds one; answers whether this contender's was stored. */
  | { kind: 'first-signing-key'; kid: string; now: number }
  /** Start like an instance on a store without users: answers the setup link's token it would print. */
  | { kind: 'setup-link'; secret: string; now: number };

export type WorkerMessage =
  | { type: 'open'; target: string; now: number; variant: StoreVariant }
  | { type: 'close' }
  | { type: 'race'; generation: number; op: RaceOp };

const ENTRY = new URL('./race-worker.ts', import.meta.url).href;
const BOOT = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(ENTRY)}, ${JSON.stringify(ENTRY)}))`;

type Reply =
  | { type: 'opened' | 'armed' | 'closed' }
  | { type: 'done'; value: unknown }
  | { type: 'failed'; error: string };

class Contender {
  readonly worker: Worker;
  readonly #inbox: Reply[] = [];
  readonly #waiting: ((r: Reply) => void)[] = [];

  constructor(barrier: SharedArrayBuffer, size: number) {
    // Node 20 refuses a .ts worker entry before any loader runs, so a one-line script loads it through tsx.
    this.worker = new Worker(BOOT, { eval: true, workerData: { barrier, size } });
    this.worker.on('message', (r: Reply) => {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(r);
      else this.#inbox.push(r);
    });
    this.worker.on('error', (err) => {
      const r: Reply = { type: 'failed', error: String(err) };
      for (const w of this.#waiting.splice(0)) w(r);
      this.#inbox.push(r);
    });
  }

  async next(type: Reply['type']): Promise<Reply> {
    const queued = this.#inbox.shift();
    const r = queued ?? (await new Promise<Reply>((resolve) => this.#waiting.push(resolve)));
    if (r.type === 'failed') throw new Error(`race worker failed: ${r.error}`);
    if (r.type !== type) throw new Error(`race worker answered ${r.type}, expected ${type}`);
    return r;
  }
}

export class RacePool {
  readonly #gate = new Int32Array(new SharedArrayBuffer(8));
  readonly #contenders: Contender[];

  readonly backend: RaceBackend;

  private constructor(size: number, backend: RaceBackend) {
    this.backend = backend;
    this.#contenders = Array.from(
      { length: size },
      () => new Contender(this.#gate.buffer as SharedArrayBuffer, size),
    );
  }

  /** `size` worker threads (starting one costs a second or two: share a pool across tests). */
  static start(size: number, backend: RaceBackend = 'sqlite'): RacePool {
    return new RacePool(size, backend);
  }

  get size(): number {
    return this.#contenders.length;
  }

  /**
   * Every contender opens its own connection to the (already migrated) store at `target` — a SQLite file path
   * or a postgres:// URL — as the adapter or one of its deliberately broken variants.
   */
  async open(target: string, now: number, variant: StoreVariant): Promise<void> {
    await this.#all({ type: 'open', target, now, variant }, 'opened');
  }

  /** Every contender closes its store (before the database or file goes away). */
  async closeStores(): Promise<void> {
    await this.#all({ type: 'close' }, 'closed');
  }

  /** Arms every contender with its operation, releases them at once, and returns their answers in order. */
  async race(op: (contender: number) => RaceOp): Promise<unknown[]> {
    const generation = Atomics.load(this.#gate, 0);
    Atomics.store(this.#gate, 1, 0); // no contender is inside a race now: the step count starts over
    this.#contenders.forEach((c, i) => {
      c.worker.postMessage({ type: 'race', generation, op: op(i) } satisfies WorkerMessage);
    });
    await Promise.all(this.#contenders.map((c) => c.next('armed')));
    Atomics.add(this.#gate, 0, 1);
    Atomics.notify(this.#gate, 0);
    const done = await Promise.all(this.#contenders.map((c) => c.next('done')));
    return done.map((r) => (r as { value: unknown }).value);
  }

  /**
   * Ends the threads, and their connections with them; also when a contender failed and the others are
   * still waiting at a step for it. The files are the caller's to remove.
   */
  async close(): Promise<void> {
    await Promise.all(this.#contenders.map((c) => c.worker.terminate()));
  }

  async #all(m: WorkerMessage, expect: Reply['type']): Promise<void> {
    for (const c of this.#contenders) c.worker.postMessage(m);
    await Promise.all(this.#contenders.map((c) => c.next(expect)));
  }
}
