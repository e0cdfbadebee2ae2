// Per-request logging without per-request cost: one access line when a response completes, and a request
// logger that is only materialized (pino child) when something is actually logged for that request.
import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';

type Bindings = Record<string, unknown>;
type LogFn = FastifyBaseLogger['info'];

/** Stands in for `logger.child(bindings)` and creates it on first use; most requests never log. */
class LazyChild {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  #child: FastifyBaseLogger | null = null;

  constructor(parent: FastifyBaseLogger, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }
  get #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings);
    return this.#child;
  }
  get level(): string {
    return this.#parent.level;
  }
  set level(value: string) {
    this.#real.level = value;
  }
  #at(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'): LogFn {
    return ((...args: Parameters<LogFn>) => {
      if ((this.#parent as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled?.(level) !== false)
        this.#real[level](...args);
    }) as LogFn;
  }
  fatal = this.#at('fatal');
  error = this.#at('error');
  warn = this.#at('warn');
  info = this.#at('info');
  debug = this.#at('debug');
  trace = this.#at('trace');
  silent = (() => {}) as LogFn;
  child(bindings: Bindings, options?: object): FastifyBaseLogger {
    return this.#real.child(bindings, options);
  }
  isLevelEnabled(level: string): boolean {
    return (this.#parent as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled?.(level) ?? true;
  }
}

export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings): FastifyBaseLogger {
  return new LazyChild(parent, bindings) as unknown as FastifyBaseLogger;
}

/** Replaces Fastify's "incoming request" / "request completed" pair with one access line per request. */
export class AccessLog extends LogController {
  constructor() {
    super({ disableRequestLogging: false });
  }
  override incomingRequest(): void {}
  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const log = request.log;
    if (!error && (log as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled?.('info') === false)
      return;
    const s = request.hero;
    const line = {
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
