// The process logger: pino JSON lines, secrets redacted, URLs logged without their query string
// (queries may carry one-time tokens). Lines go out asynchronously in buffered chunks (one write per ~64 KiB
// instead of one blocking write per request), flushed on shutdown (`flushLogger`) and on a crash
// (`flushLoggerOnCrash`); the buffer is bounded so a slow reader cannot grow memory without limit.
import { EventEmitter } from 'node:events';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Bytes gathered before a write; on a quiet gateway a line waits at most FLUSH_EVERY_MS. Each asynchronous
 * write is a round trip through libuv's thread pool (a thread woken, a completion posted back): at 4 KiB that
 * was one every dozen requests and doubled the process's futex calls under load, at 64 KiB it is one every
 * ~250 requests and the gateway makes as many system calls per request as a proxy that logs nothing.
 */
const MIN_WRITE = 64 * 1024;
const FLUSH_EVERY_MS = 1000;
/** pino's number for `warn`: lines at this level or above are written at once. */
const WRITE_AT_ONCE = 40;
/**
 * The most a reader that does not keep up (a stalled pipe, a full disk) may leave buffered: past it, lines are
 * dropped and counted rather than held without bound — an access log must not take the gateway down.
 */
export const MAX_BUFFERED = 16 * 1024 * 1024;

/** What the gateway writes its log to unless told otherwise: standard output, asynchronous and bounded. */
export function logDestination(dest: number | string = 1): pino.DestinationStream {
  const file = pino.destination({
    dest,
    sync: false,
    minLength: MIN_WRITE,
    maxWrite: 4 * MIN_WRITE,
    maxLength: MAX_BUFFERED,
  });
  return new LineBatch(file as unknown as FileStream) as unknown as pino.DestinationStream;
}

// Every open LineBatch: one timer flushes them all, and at exit the lines still waiting go out with the file
// stream's own buffer (which pino writes out then).
const LIVE = new Set<LineBatch>();
let watching = false;

function watchLive(batch: LineBatch): void {
  LIVE.add(batch);
  if (watching) return;
  watching = true;
  setInterval(() => {
    for (const b of LIVE) b.flush();
  }, FLUSH_EVERY_MS).unref();
  process.on('exit', () => {
    for (const b of LIVE) {
      try {
        b.flushSync();
      } catch {
        // The stream is already closed or broken: nothing more can be saved.
      }
    }
  });
}

/** The parts of pino's file stream (sonic-boom) that LineBatch uses. */
interface FileStream extends EventEmitter {
  /** Bytes buffered and not yet written (sonic-boom's own count; it has no public accessor). */
  readonly _len: number;
  write(chunk: string): boolean;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
  end(): void;
}

/**
 * Lines gathered into chunks of about MIN_WRITE bytes before they reach the file stream. sonic-boom measures
 * the byte length of its whole pending buffer on every write it is given, so handing it lines one by one
 * costs a copy of up to MIN_WRITE bytes per line (about a microsecond); handing it chunks, once per chunk.
 * Lines wait here at most FLUSH_EVERY_MS, and every flush (shutdown, crash, a warning) takes them along.
 */
class LineBatch extends EventEmitter {
  readonly #file: FileStream;
  #lines: string[] = [];
  #size = 0;

  constructor(file: FileStream) {
    super();
    this.#file = file;
    // The file stream's events, for reportDrops and whoever listens for errors.
    for (const event of ['drop', 'write', 'ready', 'error', 'close', 'finish']) {
      file.on(event, (...args: unknown[]) => this.emit(event, ...args));
    }
    file.once('close', () => LIVE.delete(this));
    watchLive(this);
  }

  write(line: string): boolean {
    this.#lines.push(line);
    this.#size += line.length;
    if (this.#size >= MIN_WRITE) this.#hand();
    return true;
  }

  #hand(): void {
    if (this.#lines.length === 0) return;
    const chunk = this.#lines.join('');
    this.#lines = [];
    this.#size = 0;
    this.#file.write(chunk);
  }

  flush(cb?: (err?: Error) => void): void {
    this.#hand();
    if (!cb) {
      this.#file.flush();
      return;
    }
    // sonic-boom calls back on its 'drain', which it emits once no more than minLength bytes wait, not none:
    // a caller told "written" must find every line in the file, so flush again until nothing waits.
    const round = (err?: Error) => {
      if (err || !(this.#file._len > 0)) return cb(err);
      this.#hand();
      this.#file.flush(round);
    };
    this.#file.flush(round);
  }

  flushSync(): void {
    this.#hand();
    this.#file.flushSync();
  }

  end(): void {
    this.#hand();
    this.#file.end();
  }
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  // A silent logger never writes: it gets pino's plain destination, with no buffer or flush timer.
  const dest = destination ?? (level === 'silent' ? pino.destination(1) : logDestination());
  const flushable = dest as { flush?: () => void };
  const logger = pino(
    {
      level,
      hooks: {
        // Warnings and errors are rare and are what an operator watches for (a refused reload, a failing
        // store): they go out at once instead of waiting in the buffer behind access lines.
        logMethod(args, method, levelValue) {
          method.apply(this, args);
          if (levelValue >= WRITE_AT_ONCE) flushable.flush?.();
        },
      },
      base: { pid: process.pid },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
          '*.password',
          '*.token',
          '*.secret',
          '*.client_secret',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { method?: string; url?: string; id?: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url?.split('?')[0],
        }),
        err: pino.stdSerializers.err,
      },
    },
    dest,
  );
  reportDrops(logger, dest);
  // Only loggers built here take the access line's direct path (writeInfoLine): their line format is known.
  // Children inherit the mark through their prototype.
  (logger as unknown as Record<symbol, boolean>)[PLAIN_LINES] = true;
  return logger;
}

const PLAIN_LINES = Symbol('hero.plainLines');
const { lsCacheSym, timeSym, chindingsSym, streamSym, endSym } = pino.symbols;
/** pino's number for `info`. */
const INFO = 30;

/**
 * Writes an info line exactly as pino would (`{"level":30,"time":…,<bindings><fields>,"msg":…}`) without
 * pino's generic path: no serializer lookup, no redaction walk, no hooks. For the access line, whose fields
 * are plain strings and numbers that redaction never touches. `fields` is `,"key":value…`, already JSON.
 * Returns false when the logger is not one of ours or does not log info, and writes nothing then.
 */
export function writeInfoLine(logger: unknown, fields: string, msg: string): boolean {
  const l = logger as Record<symbol, unknown> & { isLevelEnabled?: (level: string) => boolean };
  if (l[PLAIN_LINES] !== true || l.isLevelEnabled?.('info') !== true) return false;
  const head = (l[lsCacheSym] as Record<number, string>)[INFO] as string;
  const time = (l[timeSym] as () => string)();
  const stream = l[streamSym] as { write(line: string): unknown };
  stream.write(
    `${head}${time}${l[chindingsSym] as string}${fields},"msg":${JSON.stringify(msg)}${l[endSym] as string}`,
  );
  return true;
}

/** Lines dropped because the reader fell behind are not silent: one warning says how many, once it catches up. */
function reportDrops(logger: Logger, destination: pino.DestinationStream): void {
  const stream = destination as Partial<NodeJS.EventEmitter>;
  if (typeof stream.on !== 'function') return;
  let dropped = 0;
  // A dropped chunk may hold many lines (LineBatch): each one counts.
  stream.on('drop', (chunk: unknown) => {
    dropped += typeof chunk === 'string' ? Math.max(1, chunk.split('\n').length - 1) : 1;
  });
  stream.on('write', () => {
    if (dropped === 0) return;
    const n = dropped;
    dropped = 0;
    logger.warn({ dropped: n }, 'log lines dropped: the log reader did not keep up');
    // Still no room for the warning itself: the count waits for the next write.
    if (dropped > 0) dropped += n - 1;
  });
}

/** Writes out what is buffered; resolves when it is written (or at once for a destination without a buffer). */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}

/**
 * On an uncaught exception (or an unhandled rejection, which Node raises as one) the crash is logged and the
 * buffer written synchronously before Node exits: the lines that explain a crash are the ones that must not
 * be lost. A monitor only, so Node's own crash behaviour (message, exit code) stays as it is.
 */
export function flushLoggerOnCrash(logger: Logger): void {
  process.on('uncaughtExceptionMonitor', (err, origin) => {
    try {
      logger.fatal({ err, origin }, 'crashed');
      const stream = (logger as unknown as Record<symbol, { flushSync?: () => void }>)[
        pino.symbols.streamSym
      ];
      stream?.flushSync?.();
    } catch {
      // The stream itself is broken (a closed pipe): nothing more can be saved.
    }
  });
}
