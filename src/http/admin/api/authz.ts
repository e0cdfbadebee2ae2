// /api/v1/roles, /groups, /grants: who holds which claims. The rules (nobody hands out what they do not hold)
// live in the use cases (services/accounts/authz.ts); these endpoints only translate.
import { z } from 'zod';
import { CLAIM, NAME } from '../../../core/names.ts';
import { sendProblem } from '../../problem.ts';
import { callerActor } from './auth.ts';
import type { AdminDeps } from './deps.ts';
import { type Endpoint, endpoint } from './endpoint.ts';

const RoleBody = z.strictObject({ claims: z.array(z.string().regex(CLAIM)).max(200) });
const GrantBody = z
  .strictObject({
    role: z.string().regex(NAME),
    user: z.string().min(1).max(64).optional(),
    group: z.string().regex(NAME).optional(),
    context: z.string().max(64).default(''),
  })
  .refine((g) => (g.user === undefined) !== (g.group === undefined), 'name exactly one of user or group');

export function authzEndpoints(deps: AdminDeps): Endpoint[] {
  // Read when a request comes, not now: the table of endpoints is also listed without any wiring.
  const accounts = deps.accounts;
  return [
    endpoint({
      method: 'GET',
      path: '/roles',
      claim: 'gateway.users.read',
      summary: 'Roles and their claims',
      async handler() {
        return { roles: await accounts.authz.listRoles() };
      },
    }),
    endpoint<z.output<typeof RoleBody>>({
      method: 'PUT',
      path: '/roles/:name',
      claim: 'gateway.admin',
      summary: 'Create a role or replace its claims (not the built-in admin role)',
      body: RoleBody,
      async handler({ params, body, caller }) {
        const name = params.name ?? '';
        const claims = await accounts.authz.setRole(callerActor(caller), name, body.claims);
        return { name, builtin: false, claims };
      },
    }),
    endpoint({
      method: 'GET',
      path: '/grants',
      claim: 'gateway.users.read',
      summary: 'Every role grant',
      async handler() {
        return { grants: await accounts.authz.listGrants() };
      },
    }),
    ...(['POST', 'DELETE'] as const).map((method) =>
      endpoint<z.output<typeof GrantBody>>({
        method,
        path: '/grants',
        claim: 'gateway.users.write',
        summary:
          method === 'POST'
            ? 'Grant a role to a user or group, globally or in one context'
            : 'Revoke a grant',
        body: GrantBody,
        async handler({ body, caller }) {
          const to = body.group !== undefined ? { group: body.group } : { user: body.user ?? '' };
          const { changed } = await accounts.authz.grant(
            callerActor(caller),
            body.role,
            to,
            body.context,
            method === 'DELETE',
          );
          return { changed };
        },
      }),
    ),
    endpoint({
      method: 'GET',
      path: '/groups',
      claim: 'gateway.users.read',
      summary: 'Groups and their members',
      async handler() {
        return { groups: await accounts.authz.groups() };
      },
    }),
    endpoint({
      method: 'GET',
      path: '/users/:id/groups',
      claim: 'gateway.users.read',
      summary: 'The groups a user belongs to',
      async handler({ params }) {
        return { groups: await accounts.authz.groupsOf(params.id ?? '') };
      },
    }),
    ...(['PUT', 'DELETE'] as const).map((method) =>
      endpoint({
        method,
        path: '/groups/:group/members/:user',
        claim: 'gateway.users.write',
        summary: method === 'PUT' ? 'Add a user (by username) to a group' : 'Remove a user from a group',
        async handler({ params, caller, reply }) {
          const group = params.group ?? '';
          const u = await accounts.users.byName(params.user ?? '');
          // The API's group names are the strict kind (provider-synced ones with ":" are not managed here).
          if (!u || !NAME.test(group)) return sendProblem(reply, 'not_found');
          return {
            changed: await accounts.authz.setMember(callerActor(caller), group, u, method === 'DELETE'),
          };
        },
      }),
    ),
  ];
}
