// The gateway's own endpoints under `auth_prefix`. They are served on every host and never proxied.
import type { FastifyInstance } from 'fastify';
import { sendProblem } from './problem.ts';

export async function authRoutes(app: FastifyInstance, opts: { prefix: string }): Promise<void> {
  // Unknown paths under the prefix are 404 here rather than falling through to a route's upstream.
  app.all(`${opts.prefix}`, async (_req, reply) => sendProblem(reply, 'not_found'));
  app.all(`${opts.prefix}/*`, async (_req, reply) => sendProblem(reply, 'not_found'));
}
