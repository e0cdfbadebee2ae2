// Sending RFC 9457 problem+json answers built from the error registry.
import type { FastifyReply } from 'fastify';
import { type ErrorCode, problem } from '../errors.ts';

export function sendProblem(
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
