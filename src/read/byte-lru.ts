/**
 * A least-recently-used map bounded by a byte budget rather than an entry count: each value has a size that may
 * grow after it is stored (a story's representations are built lazily), and every growth evicts from the
 * least recently used end until the total fits. Map's insertion order is the recency order.
 */
export class ByteLru<K, V> {
  readonly #maxBytes: number;
  readonly #entries = new Map<K, { value: V; bytes: number }>();
  readonly #onEvict: ((key: K, value: V) => void) | undefined;
  #bytes = 0;

  /** @param maxBytes the budget; a single value larger than it is still kept until another one is used. */
  constructor(maxBytes: number, onEvict?: (key: K, value: V) => void) {
    this.#maxBytes = maxBytes;
    this.#onEvict = onEvict;
  }

  /** Bytes held now (never above the budget after a `set` or `resize`, except for a lone oversized value). */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, marked most recently used. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores (or replaces) a value as the most recently used, then evicts to fit. */
  set(key: K, value: V, bytes: number): void {
    const previous = this.#entries.get(key);
    if (previous) {
      this.#bytes -= previous.bytes;
      this.#entries.delete(key);
    }
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    this.#evict(key);
  }

  /** Changes the size of a stored value (when it is still the stored one), then evicts to fit. */
  resize(key: K, value: V, bytes: number): void {
    const entry = this.#entries.get(key);
    if (!entry || entry.value !== value) return;
    this.#bytes += bytes - entry.bytes;
    entry.bytes = bytes;
    this.#evict(key);
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  /** Evicts least recently used values until the total fits, sparing `keep` (the one just used). */
  #evict(keep: K): void {
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) return;
      if (key === keep) continue;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
      this.#onEvict?.(key, entry.value);
    }
  }
}
