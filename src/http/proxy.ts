// The one catch-all proxy: every request that passed the gate is forwarded to its route's upstream, with
// the client's copies of our headers removed before ours are set. Bodies stream through untouched.
//
// Built on @fastify/reply-from (the engine of @fastify/http-proxy) with our own two catch-all routes: the
// http-proxy handler re-parses and re-validates a destination we never use, which cost a quarter of the
// gateway's CPU per request (measured with `npm run bench`).
import replyFrom from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cleanResponseHeaders, dropSetCookies, type HeaderMap } from '../core/headers.ts';
import { type CompiledRoute, upstreamPath } from '../core/routes.ts';
import { servePeople } from './failure.ts';
import { type GateDeps, gateHook } from './gate.ts';
import { sendProblem } from './problem.ts';
import { upstreamHeaders } from './upstream-headers.ts';

/** The methods proxied; any other is answered 404 like a path no route serves. */
export const PROXIED_METHODS: readonly string[] = [
  'DELETE',
  'GET',
  'HEAD',
  'PATCH',
  'POST',
  'PUT',
  'OPTIONS',
];

const rewriteRequestHeaders = (request: FastifyRequest, headers: HeaderMap) =>
  upstreamHeaders(request.hero, headers, request.id);

function onUpstreamError(reply: FastifyReply, { error }: { error: Error & { statusCode?: number } }): void {
  const s = reply.request.hero;
  reply.request.log.warn(
    { err: (error as { cause?: unknown }).cause ?? error, route: s.route?.name },
    'upstream request failed',
  );
  sendProblem(reply, error.statusCode === 504 ? 'upstream_timeout' : 'upstream_unavailable');
}

const getUpstream = (request: FastifyRequest) => request.hero.route!.upstreamOrigin;

function rewriteResponseHeaders(headers: HeaderMap): HeaderMap {
  const clean = cleanResponseHeaders(headers);
  dropSetCookies(clean);
  return clean;
}

// One reply.from options object per compiled route, built on first use: nothing allocated per request.
const fromOptions = new WeakMap<CompiledRoute, object>();
function optionsFor(route: CompiledRoute): object {
  let options = fromOptions.get(route);
  if (!options) {
    options = Object.freeze({
      getUpstream,
      rewriteRequestHeaders,
      rewriteHeaders: rewriteResponseHeaders,
      onError: onUpstreamError,
      timeout: route.timeout,
    });
    fromOptions.set(route, options);
  }
  return options;
}

export async function proxyPlugin(app: FastifyInstance, deps: GateDeps): Promise<void> {
  // Browsers navigate to apps: the gate's and the proxy's refusals are pages for them (except on api routes).
  servePeople(app);
  app.addHook('onRequest', gateHook(deps));
  await app.register(replyFrom, {
    disableRequestLogging: true,
    undici: { connections: 256, keepAliveTimeout: 30_000, connect: { timeout: 10_000 } },
  });
  // Bodies are never parsed here: the stream goes to the upstream as it arrives.
  const passthrough = (_req: FastifyRequest, payload: unknown, done: (err: null, body: unknown) => void) =>
    done(null, payload);
  app.addContentTypeParser('application/json', passthrough);
  app.addContentTypeParser('*', passthrough);
  const handler = (request: FastifyRequest, reply: FastifyReply) => {
    const s = request.hero;
    const route = s.route!;
    s.forwarded = true;
    // Forward exactly the normalized path the route was matched on, never the raw one. The query string
    // is passed through as received (reply-from appends it from the raw URL).
    return reply.from(upstreamPath(route, s.forward), optionsFor(route));
  };
  app.route({ url: '/', method: [...PROXIED_METHODS], handler });
  app.route({ url: '/*', method: [...PROXIED_METHODS], handler });
}
