// /api/v1/roles, /groups, /grants: who holds which claims. Nobody hands out what they do not hold: granting a
// role, or adding someone to a group, needs every claim that brings (an admin holds them all).
import { z } from 'zod';
import { CLAIM, NAME } from '../../../core/names.ts';
import type { GrantSubject } from '../../../ports/store.ts';
import { sendProblem } from '../../problem.ts';
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
  const { store, audit } = deps;
  const roleClaims = async (role: string) =>
    (await store.authz.listRoles()).find((r) => r.name === role)?.claims;
  const mayHandOut = (held: readonly string[], claims: readonly string[]) =>
    held.includes('gateway.admin') || claims.every((c) => held.includes(c));
  const outranks = async (held: readonly string[], userId: string) =>
    mayHandOut(
      held,
      (await store.authz.claimGrants(userId)).map((g) => g.claim),
    );
  /** Claims a group brings to its members, in every context. */
  const groupClaims = async (group: string) => {
    const roles = new Map((await store.authz.listRoles()).map((r) => [r.name, r.claims]));
    return (await store.authz.listGrants())
      .filter((g) => g.group === group)
      .flatMap((g) => roles.get(g.role) ?? []);
  };
  const subjectOf = async (g: { user?: string | undefined; group?: string | undefined }) => {
    if (g.group) return { subject: { group: g.group } as GrantSubject, label: `@${g.group}` };
    const u = await store.users.byUsername(g.user ?? '');
    return u ? { subject: { userId: u.id } as GrantSubject, label: u.username } : null;
  };

  return [
    endpoint({
      method: 'GET',
      path: '/roles',
      claim: 'gateway.users.read',
      summary: 'Roles and their claims',
      async handler() {
        return { roles: await store.authz.listRoles() };
      },
    }),
    endpoint<z.output<typeof RoleBody>>({
      method: 'PUT',
      path: '/roles/:name',
      claim: 'gateway.admin',
      summary: 'Create a role or replace its claims (not the built-in admin role)',
      body: RoleBody,
      async handler({ params, body, caller, reply }) {
        const name = params.name ?? '';
        if (!NAME.test(name) || name === 'admin')
          return sendProblem(reply, 'invalid_input', { problems: ['name: not a changeable role'] });
        const claims = [...new Set(body.claims)].sort();
        await store.authz.setRole(name, claims);
        audit.record({ action: 'role.set', actor: caller.user.username, target: name, detail: { claims } });
        return { name, builtin: false, claims };
      },
    }),
    endpoint({
      method: 'GET',
      path: '/grants',
      claim: 'gateway.users.read',
      summary: 'Every role grant',
      async handler() {
        return { grants: await store.authz.listGrants() };
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
        async handler({ body, caller, reply }) {
          const claims = await roleClaims(body.role);
          if (!claims) return sendProblem(reply, 'not_found');
          if (!mayHandOut(caller.claims, claims)) return sendProblem(reply, 'forbidden');
          const who = await subjectOf(body);
          if (!who) return sendProblem(reply, 'not_found');
          const changed =
            method === 'POST'
              ? await store.authz.grant(body.role, who.subject, body.context)
              : await store.authz.revoke(body.role, who.subject, body.context);
          audit.record({
            action: method === 'POST' ? 'grant.add' : 'grant.remove',
            actor: caller.user.username,
            target: who.label,
            detail: { role: body.role, context: body.context },
          });
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
        const members = new Map<string, string[]>();
        for (const u of await store.users.list())
          for (const g of await store.authz.groupsOf(u.id))
            members.set(g, [...(members.get(g) ?? []), u.username]);
        return {
          groups: [...members]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, users]) => ({ name, members: users })),
        };
      },
    }),
    endpoint({
      method: 'GET',
      path: '/users/:id/groups',
      claim: 'gateway.users.read',
      summary: 'The groups a user belongs to',
      async handler({ params }) {
        return { groups: await store.authz.groupsOf(params.id ?? '') };
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
          const u = await store.users.byUsername(params.user ?? '');
          if (!u || !NAME.test(group)) return sendProblem(reply, 'not_found');
          // Both ways need the group's claims: adding hands them out, removing can bring a stronger account
          // down to where the caller may take it over. Removing also needs the caller to outrank the member.
          if (!mayHandOut(caller.claims, await groupClaims(group))) return sendProblem(reply, 'forbidden');
          if (method === 'DELETE' && !(await outranks(caller.claims, u.id)))
            return sendProblem(reply, 'forbidden');
          const changed =
            method === 'PUT'
              ? await store.authz.addMember(group, u.id)
              : await store.authz.removeMember(group, u.id);
          audit.record({
            action: method === 'PUT' ? 'group.add' : 'group.remove',
            actor: caller.user.username,
            target: group,
            detail: { user: u.username },
          });
          return { changed };
        },
      }),
    ),
  ];
}
