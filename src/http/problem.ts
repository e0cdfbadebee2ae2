// Answering a failure with a code from the registry. `sendProblem` negotiates (a page for people in a browser,
// problem+json for programs; see failure.ts), so a new caller gets the right answer without asking for it.
import type { FastifyReply } from 'fastify';
import type { ErrorCode } from '../errors.ts';
import { sendFailure } from './failure.ts';

export { sendProblemJson } from './problem-json.ts';

export function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  extra?: Record<string, unknown>,
): FastifyReply {
  return sendFailure(reply.request, reply, code, extra ? { extra } : {});
}
