// The RFC 9457 problem+json answer itself, built from the error registry: what programs get for a failure.
import type { FastifyReply } from 'fastify';
import { type ErrorCode, problem } from '../errors.ts';

/** problem+json whatever the client asked for: for answers that only programs read (admin API, forward-auth). */
export function sendProblemJson(
  reply: FastifyReply,
  code: ErrorCode,
  extra?: Record<string, unknown>,
): FastifyReply {
  const body = problem(code, extra);
  return reply
    .code(body.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(JSON.stringify(body));
}
