// Waiting for a SQLite lock without holding the event loop, and naming store faults.
//
// better-sqlite3 is synchronous: with SQLite's busy handler at 5 s, every write while another process held the
// write lock (the CLI, a backup tool, an operator's sqlite3 shell in BEGIN EXCLUSIVE) slept on the event loop
// for up to 5 s — /healthz, open routes and cached sessions answered in bursts, 5 s apart. Now SQLite's busy
// handler is off while serving (BUSY_TIMEOUT_MS): a store call that finds the lock taken is run again after a
// timer, the loop free meanwhile, until LOCK_WAIT_MS have passed; then it fails with StoreUnavailableError
// ('locked') and the request answers 503. Readers are not affected: in WAL mode they never wait for the writer.
// (Even 2 ms in the handler, paid by every retry of every waiting call, doubled the answers' p99 under a lock.)
//
// Measured against the alternative, the store on a worker thread: that costs a message round trip on every
// call (tens of µs, on every uncached request) to solve a wait that only happens under contention, and would
// take away the synchronous authz-version read the hot path relies on (change-signal.ts). A retry costs nothing
// until a lock is actually met.
import { type StoreFault, StoreUnavailableError } from '../../ports/store.ts';

/** The longest one statement sleeps in SQLite's own busy handler, on the event loop, while serving: never. */
export const BUSY_TIMEOUT_MS = 0;
/** How long a store call waits, in timer steps, for a lock another process holds before it fails. */
export const LOCK_WAIT_MS = 5000;

const BACKOFF_MS = [2, 5, 10, 20, 40];
const MAX_STEP_MS = 50;

/** Counts statements through this connection that wrote successfully (db.ts trackWrites). */
export interface WriteCount {
  count: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

function isBusy(code: string): boolean {
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

const FAULTS: [prefix: string, reason: StoreFault, what: string][] = [
  ['SQLITE_FULL', 'full', 'the disk holding the store is full: free some space (nothing was changed)'],
  ['SQLITE_READONLY', 'read_only', 'the store file cannot be written: check its permissions and file system'],
  ['SQLITE_IOERR', 'unreachable', 'the store file could not be read or written'],
  ['SQLITE_CANTOPEN', 'unreachable', 'the store file could not be opened'],
  ['SQLITE_CORRUPT', 'unreachable', 'the store file is damaged'],
  ['SQLITE_NOTADB', 'unreachable', 'the store file is not a SQLite database'],
];

/**
 * The StoreUnavailableError for a SQLite error that is about the store rather than the call (a lock past the
 * wait, a full disk, a read-only file, an I/O error), or null (constraints and mistakes keep their own error).
 */
export function sqliteFault(err: unknown, waitedMs = 0): StoreUnavailableError | null {
  if (err instanceof StoreUnavailableError) return err;
  const code = sqliteCode(err);
  if (code === undefined) return null;
  if (isBusy(code))
    return new StoreUnavailableError(
      'locked',
      `the store is locked by another process (waited ${Math.round(waitedMs)} ms); try again when it is released`,
      { cause: err },
    );
  const fault = FAULTS.find(([prefix]) => code.startsWith(prefix));
  return fault ? new StoreUnavailableError(fault[1], `${fault[2]} (${code})`, { cause: err }) : null;
}

/**
 * Runs `attempt` until it does not meet a lock, waiting between tries on timers, for at most `waitMs`. Only for
 * work that is safe to run again after a lock error: one statement, or one transaction (rolled back whole).
 */
export async function retryWhileLocked<T>(attempt: () => T, waitMs = LOCK_WAIT_MS): Promise<T> {
  const started = performance.now();
  for (let i = 0; ; i++) {
    try {
      return attempt();
    } catch (err) {
      const code = sqliteCode(err);
      const waited = performance.now() - started;
      if (code === undefined || !isBusy(code) || waited >= waitMs) throw sqliteFault(err, waited) ?? err;
      await sleep(Math.min(BACKOFF_MS[i] ?? MAX_STEP_MS, waitMs - waited));
    }
  }
}

/**
 * Wraps every async method of a store part: a call that meets a lock runs again (timers between tries, up to
 * `waitMs`), and store faults become StoreUnavailableError. A call is run again only if its synchronous part
 * (for these adapters, all of it: each method is one statement or one transaction) wrote nothing before the
 * lock error — a half-done call is never repeated, it fails.
 */
export function waitingForLocks<T extends object>(part: T, writes: WriteCount, waitMs = LOCK_WAIT_MS): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(part)) {
    if (typeof value !== 'function' || value.constructor.name !== 'AsyncFunction') {
      // Synchronous reads (the authz version on the hot path) stay synchronous; WAL never makes them wait.
      wrapped[name] = typeof value === 'function' ? value.bind(part) : value;
      continue;
    }
    const method = value as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = async (...args: unknown[]) => {
      const started = performance.now();
      for (let i = 0; ; i++) {
        const before = writes.count;
        const call = method.apply(part, args);
        const wrote = writes.count !== before;
        try {
          return await call;
        } catch (err) {
          const code = sqliteCode(err);
          const waited = performance.now() - started;
          if (code !== undefined && isBusy(code) && !wrote && waited < waitMs) {
            await sleep(Math.min(BACKOFF_MS[i] ?? MAX_STEP_MS, waitMs - waited));
            continue;
          }
          throw sqliteFault(err, waited) ?? err;
        }
      }
    };
  }
  return wrapped as T;
}
