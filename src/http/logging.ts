// Per-request logging without per-request cost: one access line when a response completes, and a request
// logger that is only materialized (pino child) when something is actually logged for that request.
import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { writeInfoLine } from '../logger.ts';

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

const elapsed = (reply: FastifyReply) => Math.round(reply.elapsedTime * 10) / 10;
const str = JSON.stringify;

/**
 * The access line's fields as JSON (`,"reqId":…,"method":…`), in the order and with the values the pino call
 * below would write; null when a binding is not a plain string or number (then pino serializes the line).
 */
function accessFields(bindings: Bindings, request: FastifyRequest, reply: FastifyReply): string | null {
  let out = '';
  for (const key in bindings) {
    const v = bindings[key];
    if (typeof v !== 'string' && typeof v !== 'number') return null;
    out += `,${str(key)}:${str(v)}`;
  }
  out += `,"method":${str(request.method)}`;
  const s = request.hero as typeof request.hero | undefined;
  if (s) out += `,"path":${str(s.forward)},"host":${str(s.host.authority)}`;
  out += `,"status":${reply.statusCode}`;
  if (s?.route) out += `,"route":${str(s.route.name)}`;
  if (s?.principal) out += `,"user":${str(s.principal.user.username)}`;
  const ms = elapsed(reply);
  return `${out},"ms":${Number.isFinite(ms) ? ms : null}`;
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
    if (!error) {
      if (!enabled(log, 'info')) return;
      // The usual case: the line serialized here and handed to the log stream, skipping pino's generic path.
      const fields = lazy ? accessFields(lazy.bindings, request, reply) : null;
      if (fields !== null && writeInfoLine(log, fields, 'request')) return;
    }
    const s = request.hero;
    const line = {
      ...lazy?.bindings,
      method: request.method,
      path: s?.forward,
      host: s?.host.authority,
      status: reply.statusCode,
      route: s?.route?.name,
      user: s?.principal?.user.username,
      ms: elapsed(reply),
    };
    if (error) log.error({ ...line, err: error }, 'request errored');
    else log.info(line, 'request');
  }
  override routeNotFound(): void {}
}
