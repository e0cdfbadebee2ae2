// A store whose identity reads answer late, as a server database's would: each read looks at the rows at the
// moment it is asked and hands its answer back LATENCY_MS later. A test can also hold one read's answer until
// it says so, to place a change exactly while that read is in flight.
import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../../src/ports/store.ts';

export const LATENCY_MS = 40;

/** The reads the identity caches and their freshness check make. */
export type SlowRead = 'version' | 'findActive' | 'findUsable' | 'claimGrants';

export class SlowStore {
  readonly store: Store;
  /** How many times each read was asked. */
  readonly reads: Record<SlowRead, number> = { version: 0, findActive: 0, findUsable: 0, claimGrants: 0 };
  readonly #started = new EventEmitter();
  readonly #held = new Map<SlowRead, Promise<void>>();

  constructor(real: Store) {
    const late =
      <A extends unknown[], R>(name: SlowRead, read: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const answer = read(...args); // the rows as they are now
        this.reads[name]++;
        const held = this.#held.get(name);
        this.#held.delete(name);
        this.#started.emit(name);
        await Promise.all([sleep(LATENCY_MS), held]);
        return answer;
      };
    const authz = {
      ...real.authz,
      version: late('version', real.authz.version),
      claimGrants: late('claimGrants', real.authz.claimGrants),
    };
    delete authz.versionNow; // an asynchronous store cannot answer without waiting
    this.store = {
      ...real,
      authz,
      sessions: { ...real.sessions, findActive: late('findActive', real.sessions.findActive) },
      apiTokens: { ...real.apiTokens, findUsable: late('findUsable', real.apiTokens.findUsable) },
    };
  }

  /** Resolves when the next `name` read has been asked (call before causing it). */
  started(name: SlowRead): Promise<unknown> {
    return once(this.#started, name);
  }

  /** Holds the next `name` read's answer until the returned function is called. */
  hold(name: SlowRead): () => void {
    let release = () => {};
    this.#held.set(name, new Promise<void>((r) => (release = r)));
    return () => release();
  }
}
