// When the SQLite file may have changed, so the authz version needs reading again: without this, every
// request paid one read transaction (~4 µs idle, 7–18 µs under load) only to learn that nothing changed.
//
// Two sources mark the version stale:
// - this process's own writes, synchronously (every statement that writes, through this connection), so a
//   revocation made here is refused from the very next request;
// - other processes' writes (the CLI, another worker, an operator's sqlite3 shell), reported by a watch on
//   the database's directory: a commit appends to the -wal file (or writes the file itself), and the watch
//   fires. A commit becomes visible to readers a moment after its bytes are written, so after any reported
//   write the version is read on every request for SETTLE_MS, not once.
// Where no watch can be set up, or it fails, every request reads the version as before. As a backstop for file
// systems that accept a watch but never report (network mounts, which SQLite warns against anyway), a version
// older than MAX_AGE_MS is read again.
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/** How long after a reported write every request still reads the version. */
export const SETTLE_MS = 100;
/** The longest a version is trusted without reading it. */
export const MAX_AGE_MS = 1000;

export class ChangeSignal {
  readonly #now: () => number;
  #watcher: FSWatcher | null = null;
  /** false: no working watch, so every ask reads the version. */
  #watching = false;
  #dirty = true;
  /** Until when every ask reads (a reported write settling). */
  #settleUntil = 0;
  #readAt = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Watches the database file's directory; with ':memory:' only this process can write, so nothing to watch. */
  watch(path: string): void {
    if (path === ':memory:' || path === '') {
      this.#watching = true;
      return;
    }
    const names = new Set([basename(path), `${basename(path)}-wal`, `${basename(path)}-journal`]);
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
        // No name: the platform could not say which file; count it.
        if (name === null || names.has(String(name))) this.#reported();
      });
      this.#watcher.on('error', () => this.#fallBack());
      this.#watching = true;
    } catch {
      this.#fallBack();
    }
  }

  /** A write through this process's own connection. */
  wrote(): void {
    this.#dirty = true;
  }

  /**
   * Whether the version must be read now. Answering true is a promise to read it: the next ask may answer
   * false until something changes again.
   */
  mustRead(): boolean {
    const now = this.#now();
    if (!this.#watching || now < this.#settleUntil || now - this.#readAt >= MAX_AGE_MS) {
      this.#dirty = false;
      this.#readAt = now;
      return true;
    }
    if (!this.#dirty) return false;
    this.#dirty = false;
    this.#readAt = now;
    return true;
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }

  #reported(): void {
    this.#dirty = true;
    this.#settleUntil = this.#now() + SETTLE_MS;
  }

  #fallBack(): void {
    this.close();
    this.#watching = false;
  }
}
