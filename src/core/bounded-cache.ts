// A cache whose size an attacker cannot grow: keys are often chosen by clients (tokens, addresses).

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
