// Liveness and readiness on the admin listener.
import type { FastifyInstance } from 'fastify';

export async function healthRoutes(
  app: FastifyInstance,
  opts: {
    /** Resolves when the store answers and its schema is current; rejects otherwise. */
    ready: () => Promise<void>;
  },
): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    try {
      await opts.ready();
      return { status: 'ready' };
    } catch (err) {
      request.log.warn({ err }, 'not ready');
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
}
