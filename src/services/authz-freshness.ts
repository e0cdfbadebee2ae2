// One read of the store's authz version per request decides whether every identity cache is still valid.
// Caches register here and are cleared together when any process changed users, grants or tokens.
import type { AuthzStore } from '../ports/store.ts';

export interface Clearable {
  clear(): void;
}

export class AuthzFreshness {
  readonly #authz: AuthzStore;
  readonly #caches: Clearable[] = [];
  #version = -1;

  constructor(authz: AuthzStore) {
    this.#authz = authz;
  }

  register(cache: Clearable): void {
    this.#caches.push(cache);
  }

  /** Reads the version (synchronously when the store can); when it moved, drops every registered cache. */
  refresh(): void | Promise<void> {
    const now = this.#authz.versionNow?.();
    if (now !== undefined) return this.#apply(now);
    return this.#authz.version().then((v) => this.#apply(v));
  }

  #apply(version: number): void {
    if (version === this.#version) return;
    for (const c of this.#caches) c.clear();
    this.#version = version;
  }
}

/** A Map that empties itself instead of growing past `max` (keys may be attacker-chosen). */
export class BoundedCache<K, V> extends Map<K, V> {
  readonly #max: number;
  constructor(max: number) {
    super();
    this.#max = max;
  }
  override set(key: K, value: V): this {
    if (this.size >= this.#max && !this.has(key)) this.clear();
    return super.set(key, value);
  }
}
