// /api/v1/routes and /api/v1/explain: the effective route table, and what it does with one URL.
import { z } from 'zod';
import { explainUrl } from '../../../core/explain.ts';
import type { AdminDeps } from './deps.ts';
import { type Endpoint, endpoint } from './endpoint.ts';

const ExplainBody = z.strictObject({
  url: z.string().min(1).max(8192),
  method: z
    .string()
    .regex(/^[A-Za-z]{1,16}$/)
    .default('GET'),
});

export function configEndpoints(deps: AdminDeps): Endpoint[] {
  return [
    endpoint({
      method: 'GET',
      path: '/routes',
      claim: 'gateway.config.write',
      summary: 'The effective route table, in matching order',
      async handler() {
        const { table } = deps.snapshots.current;
        return {
          routes: table.routes.map((r) => ({
            index: r.index,
            name: r.name,
            host: r.host,
            path: r.path,
            upstream: r.upstream,
            auth: r.auth,
            require_claims: r.require_claims,
            context: r.context,
            api: r.api,
          })),
        };
      },
    }),
    endpoint<z.output<typeof ExplainBody>>({
      method: 'POST',
      path: '/explain',
      claim: 'gateway.config.write',
      summary: 'Which route a URL takes and what it requires',
      body: ExplainBody,
      async handler({ body }) {
        const { config, table } = deps.snapshots.current;
        return { method: body.method.toUpperCase(), ...explainUrl(config, table, body.url) };
      },
    }),
    endpoint({
      method: 'POST',
      path: '/config/reload',
      claim: 'gateway.config.write',
      summary: 'Read the config file again; a bad file keeps the running config (422 with every problem)',
      async handler({ caller, reply }) {
        const result = deps.reload();
        deps.audit.record({
          action: 'config.reload',
          actor: caller.user.username,
          detail: { ok: result.ok },
        });
        if (!result.ok) reply.code(422);
        return result.ok
          ? { reloaded: true, restart_needed: result.restartNeeded }
          : { reloaded: false, problems: result.problems };
      },
    }),
  ];
}
