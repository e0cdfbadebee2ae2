// /api/v1/users: list, search, read, create (optionally by invite), update, delete, set a password, send a
// reset mail, and the user's sessions. Every change is a use case in services/accounts/, which checks the
// caller may make it (they must hold every claim the account holds) and audits it.
import { z } from 'zod';
import type { Session, User } from '../../../core/records.ts';
import { sendProblem } from '../../problem.ts';
import { type AdminCaller, callerActor } from './auth.ts';
import { type AdminDeps, userView } from './deps.ts';
import { type Endpoint, endpoint } from './endpoint.ts';

const ListQuery = z.strictObject({
  search: z.string().max(254).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const NewUser = z.strictObject({
  username: z.string().min(1).max(64),
  email: z.string().min(3).max(254),
  admin: z.boolean().default(false),
  invite: z.boolean().default(false),
  password: z.string().min(1).max(1024).optional(),
});
const UserPatch = z.strictObject({
  email: z.string().min(3).max(254).optional(),
  disabled: z.boolean().optional(),
});
const NewPassword = z.strictObject({ password: z.string().min(1).max(1024) });

export function userEndpoints(deps: AdminDeps): Endpoint[] {
  // Read when a request comes, not now: the table of endpoints is also listed without any wiring.
  const accounts = deps.accounts;
  const find = async (id: string | undefined): Promise<User | null> => (id ? accounts.users.byId(id) : null);
  const sessionView = (s: Session) => ({
    id: s.id,
    auth_method: s.authMethod,
    created_at: new Date(s.createdAt).toISOString(),
    last_seen_at: new Date(s.lastSeenAt).toISOString(),
    expires_at: new Date(Math.min(s.idleExpiresAt, s.absoluteExpiresAt)).toISOString(),
    ip: s.ip,
    user_agent: s.userAgent,
  });
  /** Runs a change on an existing user; an unknown id is 404 before anything is checked. */
  const onUser = async <T>(id: string | undefined, change: (u: User) => Promise<T>) => {
    const u = await find(id);
    return u ? change(u) : null;
  };
  const actor = (caller: AdminCaller) => callerActor(caller);

  return [
    endpoint<undefined, z.output<typeof ListQuery>>({
      method: 'GET',
      path: '/users',
      claim: 'gateway.users.read',
      summary: 'List users, optionally searching username and email',
      query: ListQuery,
      async handler({ query }) {
        const needle = query.search?.toLowerCase();
        const all = (await accounts.users.list()).filter(
          (u) => !needle || u.username.includes(needle) || u.email.includes(needle),
        );
        return {
          total: all.length,
          users: all.slice(query.offset, query.offset + query.limit).map(userView),
        };
      },
    }),
    endpoint({
      method: 'GET',
      path: '/users/:id',
      claim: 'gateway.users.read',
      summary: 'One user',
      async handler({ params, reply }) {
        const u = await find(params.id);
        return u ? userView(u) : sendProblem(reply, 'not_found');
      },
    }),
    endpoint<z.output<typeof NewUser>>({
      method: 'POST',
      path: '/users',
      claim: 'gateway.users.write',
      summary: 'Create a user (with a password, or by mailing an invite)',
      body: NewUser,
      async handler({ body, caller, reply }) {
        const user = await accounts.users.create(actor(caller), {
          username: body.username,
          email: body.email,
          admin: body.admin,
          password: body.password ?? null,
          invite: body.invite,
        });
        reply.code(201);
        return userView(user);
      },
    }),
    endpoint<z.output<typeof UserPatch>>({
      method: 'PATCH',
      path: '/users/:id',
      claim: 'gateway.users.write',
      summary: 'Change a user’s email or disable / enable them',
      body: UserPatch,
      async handler({ params, body, caller, reply }) {
        const changed = await onUser(params.id, async (u) => {
          // Checked once up front, so an empty patch answers (with the account) only where a change would.
          await accounts.users.requireManage(actor(caller), u);
          if (body.email !== undefined) await accounts.users.setEmail(actor(caller), u, body.email);
          if (body.disabled !== undefined) await accounts.users.setDisabled(actor(caller), u, body.disabled);
          return (await find(u.id)) ?? u;
        });
        return changed ? userView(changed) : sendProblem(reply, 'not_found');
      },
    }),
    endpoint({
      method: 'DELETE',
      path: '/users/:id',
      claim: 'gateway.users.write',
      summary: 'Delete a user and everything they own',
      async handler({ params, caller, reply }) {
        const deleted = await onUser(params.id, (u) => accounts.users.delete(actor(caller), u));
        return deleted ? reply.code(204).send() : sendProblem(reply, 'not_found');
      },
    }),
    endpoint<z.output<typeof NewPassword>>({
      method: 'POST',
      path: '/users/:id/password',
      claim: 'gateway.users.write',
      summary: 'Set a user’s password (ends all their sessions)',
      body: NewPassword,
      async handler({ params, body, caller, reply }) {
        const done = await onUser(params.id, (u) =>
          accounts.users.setPassword(actor(caller), u, body.password),
        );
        return done ? reply.code(204).send() : sendProblem(reply, 'not_found');
      },
    }),
    endpoint({
      method: 'POST',
      path: '/users/:id/reset-mail',
      claim: 'gateway.users.write',
      summary: 'Mail the user a password-reset link',
      async handler({ params, caller, reply }) {
        const done = await onUser(params.id, async (u) => {
          await accounts.users.sendPasswordReset(actor(caller), u);
          return true;
        });
        return done ? reply.code(202).send({ status: 'queued' }) : sendProblem(reply, 'not_found');
      },
    }),
    endpoint({
      method: 'GET',
      path: '/users/:id/sessions',
      claim: 'gateway.users.read',
      summary: 'A user’s active sessions',
      async handler({ params, reply }) {
        const u = await find(params.id);
        if (!u) return sendProblem(reply, 'not_found');
        return { sessions: (await accounts.sessions.list(u.id)).map(sessionView) };
      },
    }),
    endpoint({
      method: 'GET',
      path: '/users/:id/second-factors',
      claim: 'gateway.users.read',
      summary: 'A user’s second factors (never their secrets) and how many recovery codes are left',
      async handler({ params, reply }) {
        const u = await find(params.id);
        if (!u) return sendProblem(reply, 'not_found');
        const { factors, recoveryCodesLeft } = await accounts.secondFactors.list(u);
        return {
          second_factors: factors.map((f) => ({
            id: f.id,
            kind: f.kind,
            name: f.name,
            confirmed: f.confirmedAt !== null,
            created_at: new Date(f.createdAt).toISOString(),
            last_used_at: f.lastUsedAt === null ? null : new Date(f.lastUsedAt).toISOString(),
          })),
          recovery_codes_left: recoveryCodesLeft,
        };
      },
    }),
    endpoint({
      method: 'DELETE',
      path: '/users/:id/second-factors',
      claim: 'gateway.users.write',
      summary: 'Remove all of a user’s second factors and recovery codes (a lost phone or key)',
      async handler({ params, caller, reply }) {
        const removed = await onUser(params.id, (u) => accounts.secondFactors.reset(actor(caller), u));
        return removed === null ? sendProblem(reply, 'not_found') : { removed };
      },
    }),
    endpoint({
      method: 'DELETE',
      path: '/users/:id/sessions',
      claim: 'gateway.sessions.write',
      summary: 'End all of a user’s sessions',
      async handler({ params, caller, reply }) {
        const ended = await onUser(params.id, (u) => accounts.sessions.endAll(actor(caller), u));
        return ended === null ? sendProblem(reply, 'not_found') : { ended };
      },
    }),
    endpoint({
      method: 'DELETE',
      path: '/sessions/:id',
      claim: 'gateway.sessions.write',
      summary: 'End one session',
      async handler({ params, caller, reply }) {
        await accounts.sessions.endOne(actor(caller), params.id ?? '');
        return reply.code(204).send();
      },
    }),
  ];
}
