// A store that cannot serve right now: its own error, apart from the store port, so that every layer (the
// HTTP error handler, the CLI) can recognise it without reaching for the store itself.
/** Why the store cannot serve right now; `/readyz` reports it as `store_<reason>`. */
export type StoreFault = 'locked' | 'full' | 'read_only' | 'timeout' | 'unreachable';

/**
 * The store cannot do what was asked right now (locked by another process past the wait, a full disk, a
 * read-only file or server, no answer in time, no connection). Every endpoint answers 503 `store_unavailable`
 * for it and changes nothing; the CLI prints the message on one line and exits 2.
 */
export class StoreUnavailableError extends Error {
  readonly reason: StoreFault;
  constructor(reason: StoreFault, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
    this.reason = reason;
  }
}
