// The admin REST API under /api/v1 on the admin listener: token authentication, the endpoint table, and an
// OpenAPI document generated from that same table.
import type { FastifyError, FastifyInstance } from 'fastify';
import { z } from 'zod';
import { codeForStatus, HeroError } from '../../../errors.ts';
import { sendProblem } from '../../problem.ts';
import { adminAuth } from './auth.ts';
import { authzEndpoints } from './authz.ts';
import { configEndpoints } from './config.ts';
import type { AdminDeps } from './deps.ts';
import { type Endpoint, registerEndpoints } from './endpoint.ts';
import { tokenEndpoints } from './tokens.ts';
import { userEndpoints } from './users.ts';

export function adminEndpoints(deps: AdminDeps): Endpoint[] {
  return [...userEndpoints(deps), ...tokenEndpoints(deps), ...authzEndpoints(deps), ...configEndpoints(deps)];
}

function openApi(endpoints: readonly Endpoint[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of endpoints) {
    const path = `/api/v1${e.path.replace(/:(\w+)/g, '{$1}')}`;
    const params = [...e.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = e.query
      ? Object.entries(
          (z.toJSONSchema(e.query) as { properties?: Record<string, unknown> }).properties ?? {},
        ).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
      : [];
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[e.method.toLowerCase()] = {
      summary: e.summary,
      'x-required-claim': e.claim,
      security: [{ bearer: [] }],
      parameters: [...params, ...query],
      ...(e.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: z.toJSONSchema(e.body) } },
            },
          }
        : {}),
      responses: {
        '2XX': { description: 'done' },
        '401': { description: 'no valid API token (problem+json, code auth_required)' },
        '403': { description: 'the token lacks the required claim (code forbidden)' },
        '400': { description: 'invalid input (code invalid_input, with problems)' },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'hero-gateway admin API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

export async function adminApi(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const endpoints = adminEndpoints(deps);
  const document = openApi(endpoints);
  app.decorateRequest('adminCaller', null);
  await app.register(
    async (api) => {
      api.addHook('onRequest', adminAuth(deps));
      // The API's one dependency that fails at run time is the store (a database that is down or stalled): 503,
      // as the proxy answers then, never a 500. Client errors keep their status; refusals are HeroErrors.
      api.setErrorHandler((err: FastifyError | HeroError, request, reply) => {
        if (err instanceof HeroError) {
          (err.status >= 500 ? request.log.error : request.log.info).call(
            request.log,
            { code: err.code, err },
            'admin API call refused',
          );
          return sendProblem(reply, err.code);
        }
        const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
        if (status < 500) return sendProblem(reply, codeForStatus(status));
        request.log.error({ err }, 'admin API call failed');
        return sendProblem(reply, 'store_unavailable');
      });
      api.get('/openapi.json', async () => document);
      registerEndpoints(api, endpoints);
      // Unknown paths under the API answer 404 only to an authenticated caller (the hook ran first).
      api.all('/*', async (_request, reply) => sendProblem(reply, 'not_found'));
    },
    { prefix: '/api/v1' },
  );
}
