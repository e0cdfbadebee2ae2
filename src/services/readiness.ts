// Whether this instance can serve: the store answers a read and a write in time and its schema is the one this
// version runs on. Each fault is told apart (locked, full, read-only, slow, unreachable, behind), because each
// needs a different fix.
import { type Store, StoreBehindError, type StoreFault, StoreUnavailableError } from '../ports/store.ts';

export type Readiness =
  | { ready: true }
  | { ready: false; code: 'store_behind'; pending: string[]; error: Error }
  | { ready: false; code: `store_${StoreFault}`; error: Error };

/** The longest a readiness answer waits for the store: a probe must answer even while the store does not. */
export const READY_WAIT_MS = 2000;

/** One probe at a time per store: probes every 100 ms against a stalled database must not pile up. */
const inFlight = new WeakMap<object, Promise<Readiness>>();

/**
 * Whether the store can serve now: it answers a read and a small write (a full disk or a lock held elsewhere
 * refuses only writes) within READY_WAIT_MS, and its schema is the one this version runs on.
 */
export async function storeReadiness(
  store: Pick<Store, 'ready'>,
  waitMs = READY_WAIT_MS,
): Promise<Readiness> {
  let probe = inFlight.get(store);
  if (!probe) {
    probe = probeOnce(store).finally(() => inFlight.delete(store));
    inFlight.set(store, probe);
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => {
      const error = new StoreUnavailableError('timeout', `the store did not answer within ${waitMs} ms`);
      resolve({ ready: false, code: 'store_timeout', error });
    }, waitMs);
  });
  try {
    return await Promise.race([probe, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function probeOnce(store: Pick<Store, 'ready'>): Promise<Readiness> {
  try {
    await store.ready();
    return { ready: true };
  } catch (err) {
    if (err instanceof StoreBehindError)
      return { ready: false, code: 'store_behind', pending: err.pending, error: err };
    if (err instanceof StoreUnavailableError)
      return { ready: false, code: `store_${err.reason}`, error: err };
    return { ready: false, code: 'store_unreachable', error: err as Error };
  }
}

/** How long one answer about the store stands before the next page view asks again. */
const AVAILABILITY_TTL_MS = 2000;
/** How long a page waits for a fresh answer; past it, the last one known stands. */
const AVAILABILITY_WAIT_MS = 1000;

/**
 * Whether the store answers, for pages that would otherwise show a form nobody can use while it is down (the
 * sign-in page says "temporarily unavailable" instead of inviting a password it would then refuse with 503).
 * One check at a time, its answer reused for a moment: page views never become a query each, and a database that
 * stalls instead of refusing holds a page for at most AVAILABILITY_WAIT_MS.
 */
export class StoreAvailability {
  readonly #store: Pick<Store, 'ready'>;
  readonly #now: () => number;
  #known = true;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #checking: Promise<boolean> | null = null;

  constructor(store: Pick<Store, 'ready'>, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  async available(): Promise<boolean> {
    if (this.#now() - this.#checkedAt < AVAILABILITY_TTL_MS) return this.#known;
    this.#checking ??= storeReadiness(this.#store).then((r) => {
      // Behind is not down: the pages work while another instance finishes migrating.
      this.#known = r.ready || r.code === 'store_behind';
      this.#checkedAt = this.#now();
      this.#checking = null;
      return this.#known;
    });
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(this.#known), AVAILABILITY_WAIT_MS);
    });
    try {
      return await Promise.race([this.#checking, waited]);
    } finally {
      clearTimeout(timer);
    }
  }
}
