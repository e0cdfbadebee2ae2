// The admin API's building block: an endpoint declares its method, path, the claim it needs and the shape of
// its input (zod). One table drives routing, authorization, validation and the OpenAPI document, so no
// endpoint can exist without a declared claim.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AccountError } from '../../../services/accounts/actor.ts';
import { sendProblem } from '../../problem.ts';
import type { AdminCaller } from './auth.ts';

export type AdminClaim =
  | 'gateway.users.read'
  | 'gateway.users.write'
  | 'gateway.tokens.write'
  | 'gateway.sessions.write'
  | 'gateway.config.write'
  | 'gateway.admin';

export interface EndpointContext<B, Q> {
  caller: AdminCaller;
  params: Record<string, string>;
  body: B;
  query: Q;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface Endpoint<B = unknown, Q = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify path under /api/v1, e.g. "/users/:id". */
  path: string;
  claim: AdminClaim;
  summary: string;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  handler(ctx: EndpointContext<B, Q>): Promise<unknown>;
}

/** Declares an endpoint with its input types inferred from the schemas. */
export const endpoint = <B = undefined, Q = undefined>(e: Endpoint<B, Q>): Endpoint =>
  e as unknown as Endpoint;

/** `gateway.admin` holds every admin claim; otherwise the exact claim is needed. */
export function holds(claims: readonly string[], claim: AdminClaim): boolean {
  return claims.includes('gateway.admin') || claims.includes(claim);
}

function issues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
}

export function registerEndpoints(app: FastifyInstance, endpoints: readonly Endpoint[]): void {
  for (const e of endpoints) {
    app.route({
      method: e.method,
      url: e.path,
      handler: async (request, reply) => {
        const caller = request.adminCaller;
        if (!caller) return sendProblem(reply, 'auth_required');
        if (!holds(caller.claims, e.claim)) return sendProblem(reply, 'forbidden', { required: e.claim });
        const body = e.body
          ? e.body.safeParse(request.body ?? {})
          : { success: true as const, data: undefined };
        if (!body.success) return sendProblem(reply, 'invalid_input', { problems: issues(body.error) });
        const query = e.query
          ? e.query.safeParse(request.query ?? {})
          : { success: true as const, data: undefined };
        if (!query.success) return sendProblem(reply, 'invalid_input', { problems: issues(query.error) });
        let result: unknown;
        try {
          result = await e.handler({
            caller,
            params: request.params as Record<string, string>,
            body: body.data,
            query: query.data,
            request,
            reply,
          });
        } catch (err) {
          // A use case's refusal is the caller's answer; anything else is a fault for the error handler.
          if (!(err instanceof AccountError)) throw err;
          return err.code === 'invalid_input'
            ? sendProblem(reply, 'invalid_input', { problems: [err.message] })
            : sendProblem(reply, err.code);
        }
        return reply.sent ? reply : result;
      },
    });
  }
}
