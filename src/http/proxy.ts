// The one catch-all proxy: every request that passed the gate is forwarded to its route's upstream, with
// the client's copies of our headers removed before ours are set. Bodies stream through untouched. The hop
// itself is forward.ts (undici's dispatcher); this file owns the routes, the connection pool and the
// per-route facts computed once.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Agent } from 'undici';
import { type CompiledRoute, upstreamPath } from '../core/routes.ts';
import type { ErrorCode } from '../errors.ts';
import { servePeople } from './failure.ts';
import { forward } from './forward.ts';
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

function onUpstreamError(reply: FastifyReply, code: ErrorCode, cause: Error): void {
  const s = reply.request.hero;
  reply.request.log.warn({ err: cause, route: s.route?.name }, 'upstream request failed');
  sendProblem(reply, code);
}

/** The Host an upstream receives: its own authority, computed once per compiled route. */
const upstreamHosts = new WeakMap<CompiledRoute, string>();
function upstreamHost(route: CompiledRoute): string {
  let host = upstreamHosts.get(route);
  if (host === undefined) {
    host = new URL(route.upstreamOrigin).host;
    upstreamHosts.set(route, host);
  }
  return host;
}

/** The query string exactly as the client sent it (`?…`), or ''. */
function rawQuery(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at);
}

export async function proxyPlugin(app: FastifyInstance, deps: GateDeps): Promise<void> {
  // Browsers navigate to apps: the gate's and the proxy's refusals are pages for them (except on api routes).
  servePeople(app);
  app.addHook('onRequest', gateHook(deps));
  // One pool per upstream origin, kept alive between requests; closed with the server.
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, connect: { timeout: 10_000 } });
  app.addHook('onClose', async () => {
    await agent.close();
  });
  // Bodies are never parsed here: the stream goes to the upstream as it arrives, whatever its type. Fastify's
  // own parsers (JSON, text/plain) go first, or they would read a body into a value that is not forwarded.
  const passthrough = (_req: FastifyRequest, payload: unknown, done: (err: null, body: unknown) => void) =>
    done(null, payload);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', passthrough);
  const handler = (request: FastifyRequest, reply: FastifyReply) => {
    const s = request.hero;
    const route = s.route!;
    s.forwarded = true;
    const headers = upstreamHeaders(s, request.headers, request.id);
    headers.host = upstreamHost(route);
    // The client's Expect was answered by this server (Node sends 100 Continue itself); the upstream hop is a
    // new request with the whole body on its way, and undici refuses to send an Expect header at all.
    headers.expect = undefined;
    forward(
      agent,
      request,
      reply,
      {
        origin: route.upstreamOrigin,
        // Exactly the normalized path the route was matched on, never the raw one; the query as received.
        path: upstreamPath(route, s.forward) + rawQuery(request.raw.url ?? ''),
        headers,
        timeout: route.timeout,
      },
      onUpstreamError,
    );
    return reply;
  };
  app.route({ url: '/', method: [...PROXIED_METHODS], handler });
  app.route({ url: '/*', method: [...PROXIED_METHODS], handler });
}
