// One proxied request, from the gate's admission to the last byte of the upstream's answer, on undici's
// dispatcher API: the upstream's status and headers go straight into the client's response, and its body
// chunks straight into the socket, with undici paused while the client's socket is full.
//
// Why not @fastify/reply-from (what @fastify/http-proxy is built on): it wraps every answer in a Readable
// stream that Fastify then pipes with its end-of-stream listeners, several objects and listeners per request.
// Measured with both loaded at the same moment (bench/paired.ts), a dispatcher-based proxy spends about 0.55×
// the CPU per request of @fastify/http-proxy; that is the room the gateway's own work per request (the
// decision, the identity and forwarding headers, the access line) needs to cost less than a bare proxy.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { cleanResponseHeaders, dropSetCookies, type HeaderMap } from '../core/headers.ts';
import type { ErrorCode } from '../errors.ts';

/** What the proxy does when the upstream could not be asked or did not answer in time. */
export type UpstreamFailure = (reply: FastifyReply, code: ErrorCode, cause: Error) => void;

/** One forwarded request's facts, fixed before it is dispatched. */
export interface Forwarding {
  origin: string;
  /** Path and query exactly as the upstream will receive them. */
  path: string;
  headers: HeaderMap;
  /** headersTimeout and bodyTimeout, in milliseconds. */
  timeout: number;
}

// undici's connect and headers timeouts: the upstream did not answer in time (504); anything else before an
// answer is an upstream that could not be asked (502).
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const LENGTH_MISMATCH = 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';

/**
 * The upstream's response headers as the client may see them (hop-by-hop gone, the gateway's cookies too),
 * from undici's raw name/value pairs: names lower-cased, values as the bytes arrived (latin1, which is how
 * Node writes them out again), a repeated header as a list so each line goes out as it came.
 */
function responseHeaders(raw: Buffer[]): HeaderMap {
  const headers: HeaderMap = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1').toLowerCase();
    // Assigning it would set the object's prototype, not a header: no real header has this name.
    if (name === '__proto__') continue;
    const value = (raw[i + 1] as Buffer).toString('latin1');
    // Own properties only: `constructor`, `toString` and the like are headers too, not Object's methods.
    const seen = Object.hasOwn(headers, name) ? headers[name] : undefined;
    if (seen === undefined) headers[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[name] = [seen, value];
  }
  const clean = cleanResponseHeaders(headers);
  dropSetCookies(clean);
  return clean;
}

/** Whether a status is one a response can be sent with; anything else from an upstream is a bad gateway. */
const sendable = (status: number) => Number.isInteger(status) && status >= 200 && status <= 999;

/**
 * undici's handler interface in its first form (onConnect, onHeaders, onData, onComplete, onError): the form
 * its HTTP/1 client calls directly, where a handler written to the newer controller interface is wrapped in
 * an adapter and has every header parsed into an object first, per request.
 */
class ForwardHandler implements Dispatcher.DispatchHandler {
  readonly #reply: FastifyReply;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #failed: UpstreamFailure;
  #abort: ((err?: Error) => void) | null = null;
  #resume: (() => void) | null = null;
  #started = false;
  #bodiless = false;
  /** The client went away before its answer was complete; watched from the moment the request is dispatched. */
  #gone = false;
  // Bound once here, not arrow-function fields: the TypeScript loader names every function a class field
  // creates with an Object.defineProperty call, which per request cost more than the rest of this handler.
  readonly #onClientClose: () => void;
  #onDrain: (() => void) | null = null;

  constructor(reply: FastifyReply, failed: UpstreamFailure) {
    this.#reply = reply;
    this.#req = reply.request.raw;
    this.#res = reply.raw;
    this.#failed = failed;
    this.#onClientClose = this.#clientClosed.bind(this);
    if (this.#res.destroyed) this.#gone = true;
    else this.#res.once('close', this.#onClientClose);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    // A client that has gone (while the request waited for a connection, too) is not forwarded to.
    if (this.#gone) abort(new Error('client closed the connection'));
  }

  #clientClosed(): void {
    if (this.#res.writableFinished) return;
    this.#gone = true;
    this.#abort?.(new Error('client closed the connection'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx informational answers are the upstream's and this hop's business; the final answer follows.
    if (statusCode < 200) return true;
    const res = this.#res;
    if (res.destroyed) {
      this.#abort?.(new Error('client closed the connection'));
      return false;
    }
    if (!sendable(statusCode)) {
      this.#abort?.(new Error(`upstream answered status ${statusCode}`));
      return false;
    }
    const out = responseHeaders(rawHeaders);
    // Headers set on the reply before the answer came (none today) stay, under the upstream's own.
    const preset = this.#reply.getHeaders();
    for (const name in preset) if (out[name] === undefined) out[name] = preset[name] as string | string[];
    // An HTTP/1 connection cannot take the next request while this one's body is unread: close it.
    if (!this.#req.complete) out.connection = 'close';
    try {
      res.writeHead(statusCode, out as Record<string, string | string[]>);
    } catch (err) {
      // Nothing has been written: the client gets the gateway's own answer, without a trace of the headers.
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      this.#abort?.(err as Error);
      return false;
    }
    this.#started = true;
    this.#bodiless = statusCode === 204 || statusCode === 304;
    // From here the response is ours to finish; Fastify still runs its onResponse hooks when it ends.
    this.#reply.hijack();
    this.#resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#res.write(chunk)) return true;
    // false pauses undici until the client's socket drains. Watched only from the first full socket: most
    // answers fit at once and never need it.
    if (this.#onDrain === null) {
      this.#onDrain = this.#resume as () => void;
      this.#res.on('drain', this.#onDrain);
    }
    return false;
  }

  onComplete(): void {
    this.#done();
    this.#res.end();
  }

  onError(err: Error): void {
    this.#done();
    if (this.#started && this.#bodiless && (err as { code?: string }).code === LENGTH_MISMATCH) {
      // A 204 or 304 carries no body whatever its Content-Length says (RFC 9110 §8.6): undici holds the
      // length against it, but the answer is complete.
      this.#res.end();
      return;
    }
    if (this.#started) {
      // Part of the answer is out: the client must see a broken response, not a short one that looks whole.
      this.#res.destroy(err);
      return;
    }
    if (this.#res.destroyed) return;
    const code = (err as { code?: string }).code;
    this.#failed(
      this.#reply,
      TIMEOUT_CODES.has(code ?? '') ? 'upstream_timeout' : 'upstream_unavailable',
      err,
    );
  }

  #done(): void {
    this.#res.off('close', this.#onClientClose);
    if (this.#onDrain !== null) this.#res.off('drain', this.#onDrain);
  }
}

/**
 * Sends the request to its upstream and the answer to the client. The request body, when there is one, is
 * the client's stream as it arrives (Fastify never parses it here); a GET or HEAD carries none.
 */
export function forward(
  dispatcher: Dispatcher,
  request: FastifyRequest,
  reply: FastifyReply,
  f: Forwarding,
  failed: UpstreamFailure,
): void {
  const method = request.method as Dispatcher.HttpMethod;
  // The body is what the pass-through content parser handed on: the client's stream, unread. A request whose
  // parser did not run (no body) sends none.
  const body = request.body instanceof Readable ? request.body : null;
  // Any other value means something read the body before us: forwarding without it would hand the app a
  // different request than the client sent.
  if (body === null && request.body !== undefined && request.body !== null) {
    failed(reply, 'internal', new Error('request body was read before it could be forwarded'));
    return;
  }
  dispatcher.dispatch(
    {
      origin: f.origin,
      path: f.path,
      method,
      headers: f.headers as Record<string, string | string[]>,
      body,
      headersTimeout: f.timeout,
      bodyTimeout: f.timeout,
    },
    new ForwardHandler(reply, failed),
  );
}
