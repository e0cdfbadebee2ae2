// Per-request logging without per-request cost: one access line when a response completes, and a request
// logger that is only materialized (pino child) when something is actually logged for that request.
import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';

type Bindings = Record<string, unknown>;
type LogFn = FastifyBaseLogger['info'];

const enabled = (logger: FastifyBaseLogger, level: string): boolean =>
  (logger as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled?.(level) !== false;

/**
 * Stands in for `logger.child(bindings)` and creates it on first use; most requests never log. Methods live
 * on the prototype: constructing one per request allocates a single small object, no closures.
 */
class LazyChild {
  readonly parent: FastifyBaseLogger;
  readonly bindings: Bindings;
  child_: FastifyBaseLogger | null = null;

  constructor(parent: FastifyBaseLogger, bindings: Bindings) {
    this.parent = parent;
    this.bindings = bindings;
  }
  real(): FastifyBaseLogger {
    this.child_ ??= this.parent.child(this.bindings);
    return this.child_;
  }
  get level(): string {
    return (this.child_ ?? this.parent).level;
  }
  set level(value: string) {
    this.real().level = value;
  }
  fatal(...args: Parameters<LogFn>): void {
    if (enabled(this.child_ ?? this.parent, 'fatal')) this.real().fatal(...args);
  }
  error(...args: Parameters<LogFn>): void {
    if (enabled(this.child_ ?? this.parent, 'error')) this.real().error(...args);
  }
  warn(...args: Parameters<LogFn>): void {
    if (enabled(this.child_ ?? this.parent, 'warn')) this.real().warn(...args);
  }
  info(...args: Parameters<LogFn>): void {
    if (enabled(this.child_ ?? this.parent, 'info')) this.real().info(...args);
  }
  debug(...args: Parameters<LogFn>): void {
    if (enabled(this.child_ ?? this.parent, 'debug')) this.real().debug(...args);
  }
  trace(...args: Parameters<LogFn>): void {
    if (enabled(this.child_ ?? this.parent, 'trace')) this.real().trace(...args);
  }
  silent(): void {}
  child(bindings: Bindings, options?: object): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }
  isLevelEnabled(level: string): boolean {
    return enabled(this.child_ ?? this.parent, level);
  }
}

export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings): FastifyBaseLogger {
  return new LazyChild(parent, bindings) as unknown as FastifyBaseLogger;
}

/** Replaces Fastify's "incoming request" / "request completed" pair with one access line per request. */
export class AccessLog extends LogController {
  readonly #onCompleted: ((request: FastifyRequest, reply: FastifyReply) => void) | undefined;
  /** `onCompleted` sees every answered request (metrics), whatever the log level. */
  constructor(onCompleted?: (request: FastifyRequest, reply: FastifyReply) => void) {
    super({ disableRequestLogging: false });
    this.#onCompleted = onCompleted;
  }
  override incomingRequest(): void {}
  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    this.#onCompleted?.(request, reply);
    // The line goes through the process logger with the request's bindings (its id) written into it: the
    // same fields as the request's child logger would write, without building that child for every request
    // (most requests log nothing else, and a pino child costs more than the line itself).
    const lazy = request.log instanceof LazyChild && request.log.child_ === null ? request.log : null;
    const log = lazy ? lazy.parent : request.log;
    if (!error && !enabled(log, 'info')) return;
    const s = request.hero;
    const line = {
      ...lazy?.bindings,
      method: request.method,
      path: s?.forward,
      host: s?.host.authority,
      status: reply.statusCode,
      route: s?.route?.name,
      user: s?.principal?.user.username,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) log.error({ ...line, err: error }, 'request errored');
    else log.info(line, 'request');
  }
  override routeNotFound(): void {}
}
