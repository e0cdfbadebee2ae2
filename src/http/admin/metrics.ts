// GET /metrics on the admin listener: Prometheus text format.
import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../metrics.ts';

export async function metricsRoutes(app: FastifyInstance, opts: { metrics: GatewayMetrics }): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', opts.metrics.registry.contentType).header('cache-control', 'no-store');
    return opts.metrics.registry.metrics();
  });
}
