// Liveness and readiness on the admin listener.
import type { FastifyInstance } from 'fastify';
import type { Readiness } from '../../services/readiness.ts';

export async function healthRoutes(
  app: FastifyInstance,
  opts: {
    /** Whether the store answers and its schema is current. */
    readiness: () => Promise<Readiness>;
  },
): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    const r = await opts.readiness();
    if (r.ready) return { status: 'ready' };
    request.log.warn({ err: r.error, code: r.code }, 'not ready');
    // A load balancer only needs the status; an operator reading it learns which fix applies.
    return reply
      .code(503)
      .send(
        r.code === 'store_behind'
          ? { status: 'unavailable', code: r.code, pending: r.pending }
          : { status: 'unavailable', code: r.code },
      );
  });
}
