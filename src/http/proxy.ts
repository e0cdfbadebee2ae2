// The one catch-all proxy: every request that passed the gate is forwarded to its route's upstream, with
// the client's copies of our headers removed before ours are set. Bodies stream through untouched.
import httpProxy from '@fastify/http-proxy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type HeaderMap,
  setForwardedHeaders,
  setIdentityHeaders,
  stripClientHeaders,
  stripResponseHopByHop,
} from '../core/headers.ts';
import { upstreamPath } from '../core/routes.ts';
import { type GateDeps, gateHook } from './gate.ts';
import { sendProblem } from './problem.ts';

function rewriteRequestHeaders(request: FastifyRequest, headers: HeaderMap): HeaderMap {
  const s = request.hero;
  const route = s.route!;
  stripClientHeaders(headers, s.consumedAuthorization && !route.pass_authorization);
  setForwardedHeaders(headers, {
    forwardedFor: s.forwardedFor,
    proto: s.proto,
    host: s.host.authority,
    requestId: request.id,
  });
  if (s.principal) {
    setIdentityHeaders(headers, {
      username: s.principal.user.username,
      email: s.principal.user.email,
      context: route.context,
      claims: s.claims.join(','),
      authMethod: s.principal.method,
    });
  }
  return headers;
}

function onUpstreamError(reply: FastifyReply, { error }: { error: Error & { statusCode?: number } }): void {
  const s = reply.request.hero;
  reply.request.log.warn(
    { err: (error as { cause?: unknown }).cause ?? error, route: s.route?.name },
    'upstream request failed',
  );
  sendProblem(reply, error.statusCode === 504 ? 'upstream_timeout' : 'upstream_unavailable');
}

export async function proxyPlugin(app: FastifyInstance, deps: GateDeps): Promise<void> {
  app.addHook('onRequest', gateHook(deps));
  await app.register(httpProxy, {
    upstream: '',
    prefix: '/',
    websocket: false,
    disableRequestLogging: true,
    undici: { connections: 256, keepAliveTimeout: 30_000, connect: { timeout: 10_000 } },
    replyOptions: {
      getUpstream: (request: FastifyRequest) => request.hero.route!.upstreamOrigin,
      rewriteRequestHeaders,
      rewriteHeaders: stripResponseHopByHop,
      onError: onUpstreamError,
    },
    handler: (request: FastifyRequest, reply: FastifyReply, _dest: string, options: object) => {
      const s = request.hero;
      const route = s.route!;
      // Forward exactly the normalized path the route was matched on, never the raw one. The query string
      // is passed through as received (reply-from appends it from the raw URL).
      return reply.from(upstreamPath(route, s.forward), { ...options, timeout: route.timeout });
    },
  } as Parameters<typeof httpProxy>[1]);
}
