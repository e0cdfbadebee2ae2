// One read of the authz version per request decides whether every identity cache is still valid.
// Caches register here and are cleared together when any process changed users, grants or tokens.
//
// Clearing alone is not enough once store reads are asynchronous: a read that was in flight when the version
// moved can land after the clear and put the pre-change row back, where it would stay until the next change.
// So every clear also moves a generation, a fill takes a stamp of it before reading, and the answer is kept
// only when no clear came in between (AuthzCache.read).
import { BoundedCache } from '../core/bounded-cache.ts';
import { isPromise } from '../core/maybe-promise.ts';
import { type AuthzVersion, type AuthzVersions, UNKNOWN_VERSION } from '../ports/authz-versions.ts';

export interface Clearable {
  clear(): void;
}

/** A stamp no answer may be kept under (the version is unknown). */
const NO_STAMP = -1;

export class AuthzFreshness {
  readonly #versions: AuthzVersions;
  readonly #caches: Clearable[] = [];
  // null until the first read: caches filled before it are dropped by it, as they always were.
  #version: AuthzVersion | null = null;
  #generation = 0;
  // Asynchronous version reads can answer out of order; an older answer must not overwrite a newer one.
  #asked = 0;
  #applied = 0;

  constructor(versions: AuthzVersions) {
    this.#versions = versions;
  }

  register(cache: Clearable): void {
    this.#caches.push(cache);
  }

  /** Reads the version (synchronously when the backend can); when it moved, drops every registered cache. */
  refresh(): void | Promise<void> {
    const asked = ++this.#asked;
    const now = this.#versions.current();
    if (!isPromise(now)) return this.#apply(asked, now);
    return now.then((v) => this.#apply(asked, v));
  }

  /** Taken before a store read whose answer may be cached; see `holds`. */
  stamp(): number {
    return this.#version === UNKNOWN_VERSION ? NO_STAMP : this.#generation;
  }

  /** Whether an answer read since `stamp` was taken may be cached: no change was seen while it was read. */
  holds(stamp: number): boolean {
    return stamp !== NO_STAMP && stamp === this.#generation;
  }

  #apply(asked: number, version: AuthzVersion): void {
    if (asked < this.#applied) return; // a newer answer is already in force
    this.#applied = asked;
    // Unknown is never "unchanged": while it lasts nothing cached is trusted and nothing read is kept.
    if (version === this.#version && version !== UNKNOWN_VERSION) return;
    this.#version = version;
    this.#generation++;
    for (const c of this.#caches) c.clear();
  }
}

/**
 * An identity cache that is only valid together with AuthzFreshness: cleared with it, and filled only by reads
 * that no authz change overtook.
 */
export class AuthzCache<K, V> {
  readonly #freshness: AuthzFreshness;
  readonly #entries: BoundedCache<K, V>;

  constructor(freshness: AuthzFreshness, max: number) {
    this.#freshness = freshness;
    this.#entries = new BoundedCache(max);
    freshness.register(this.#entries);
  }

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /**
   * Reads `key` through `read` and caches a non-null answer unless the authz version moved (or became unknown)
   * while it was in flight. Such an answer still serves the one request that asked: that request began before
   * the change was seen, so answering it is the same as having answered it a moment earlier, which is all a
   * synchronous store promises too. Every request after the change reads again and sees the change.
   */
  read<R extends V | null>(key: K, read: () => Promise<R>): Promise<R> {
    const stamp = this.#freshness.stamp();
    return read().then((found) => {
      if (found !== null && this.#freshness.holds(stamp)) this.#entries.set(key, found as V);
      return found;
    });
  }
}
