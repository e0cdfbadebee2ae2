// Naming PostgreSQL faults: an error about the database (gone, too slow, locked, full, read-only) becomes
// StoreUnavailableError, so every endpoint answers 503 and the CLI one line, whatever the driver said.
import { type StoreFault, StoreUnavailableError } from '../../ports/store.ts';

// SQLSTATE classes and codes (PostgreSQL's errcodes) that are about the server, not the statement.
const BY_CODE: Record<string, [StoreFault, string]> = {
  '57014': ['timeout', 'the database did not answer within the statement timeout'],
  '55P03': ['locked', 'a lock the statement needs is held by another session'],
  '53100': ['full', 'the disk holding the database is full'],
  '25006': ['read_only', 'the database accepts no writes (a standby, or default_transaction_read_only)'],
  '53300': ['unreachable', 'the database has no free connection slots'],
  '57P01': ['unreachable', 'the database is shutting down'],
  '57P02': ['unreachable', 'the database server crashed'],
  '57P03': ['unreachable', 'the database is starting up'],
};
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);
// node-postgres' own messages for a connection it lost or could not get in time.
const DRIVER =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed)/;

export function pgFault(err: unknown): StoreUnavailableError | null {
  if (err instanceof StoreUnavailableError) return err;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  const known = BY_CODE[code];
  if (known) return new StoreUnavailableError(known[0], `${known[1]} (${code})`, { cause: err });
  if (code.startsWith('08') || NETWORK.has(code))
    return new StoreUnavailableError('unreachable', `cannot reach the database (${code})`, { cause: err });
  if (message === 'Query read timeout')
    return new StoreUnavailableError('timeout', 'the database did not answer in time', { cause: err });
  if (DRIVER.test(message))
    return new StoreUnavailableError('unreachable', `cannot reach the database: ${message}`, { cause: err });
  return null;
}

/** Wraps every method of a store part that returns a promise: database faults reject as StoreUnavailableError. */
export function namingFaults<T extends object>(part: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(part)) {
    if (typeof value !== 'function') {
      wrapped[name] = value;
      continue;
    }
    const method = value as (...args: unknown[]) => unknown;
    wrapped[name] = (...args: unknown[]) => {
      const result = method.apply(part, args);
      return result instanceof Promise
        ? result.catch((err: unknown) => {
            throw pgFault(err) ?? err;
          })
        : result;
    };
  }
  return wrapped as T;
}
