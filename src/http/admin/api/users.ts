// /api/v1/users: list, search, read, create (optionally by invite), update, delete, set a password, send a
// reset mail, and the user's sessions.
import { z } from 'zod';
import { hashPassword } from '../../../crypto/password.ts';
import { StoreConflictError, type User } from '../../../ports/store.ts';
import { passwordProblem } from '../../../services/password-policy.ts';
import { checkEmail, createUser, UserInputError } from '../../../services/users.ts';
import { sendProblem } from '../../problem.ts';
import type { AdminCaller } from './auth.ts';
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
  const { store, clock, audit } = deps;
  const find = async (id: string | undefined): Promise<User | null> => (id ? store.users.byId(id) : null);
  /**
   * Changing an account (password, email, disable, delete, reset mail, sessions) can take it over, so the
   * caller must already hold every claim it has, in any context: helpdesk cannot take over an admin.
   */
  const mayManage = async (caller: AdminCaller, target: User) =>
    caller.claims.includes('gateway.admin') ||
    (await store.authz.claimGrants(target.id)).every((g) => caller.claims.includes(g.claim));
  const manageable = async (caller: AdminCaller, id: string | undefined) => {
    const u = await find(id);
    return u && (await mayManage(caller, u)) ? u : u ? ('forbidden' as const) : null;
  };
  const sessionView = (s: Awaited<ReturnType<typeof deps.sessions.list>>[number]) => ({
    id: s.id,
    auth_method: s.authMethod,
    created_at: new Date(s.createdAt).toISOString(),
    last_seen_at: new Date(s.lastSeenAt).toISOString(),
    expires_at: new Date(Math.min(s.idleExpiresAt, s.absoluteExpiresAt)).toISOString(),
    ip: s.ip,
    user_agent: s.userAgent,
  });

  return [
    endpoint<undefined, z.output<typeof ListQuery>>({
      method: 'GET',
      path: '/users',
      claim: 'gateway.users.read',
      summary: 'List users, optionally searching username and email',
      query: ListQuery,
      async handler({ query }) {
        const needle = query.search?.toLowerCase();
        const all = (await store.users.list()).filter(
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
        // Making someone an admin is granting `gateway.admin`: only an admin may.
        if (body.admin && !caller.claims.includes('gateway.admin')) return sendProblem(reply, 'forbidden');
        if (body.invite && body.password)
          return sendProblem(reply, 'invalid_input', {
            problems: ['invite and password exclude each other'],
          });
        const minLength = deps.snapshots.current.config.accounts.password_min_length;
        const problem =
          body.password &&
          passwordProblem(body.password, { minLength, username: body.username, email: body.email });
        if (problem) return sendProblem(reply, 'invalid_input', { problems: [problem] });
        let user: User;
        try {
          user = await createUser(store, {
            username: body.username,
            email: body.email,
            emailVerified: !body.invite,
            admin: body.admin,
            ...(body.password ? { passwordHash: await hashPassword(body.password) } : {}),
          });
        } catch (err) {
          if (err instanceof UserInputError)
            return sendProblem(reply, 'invalid_input', { problems: [err.message] });
          throw err;
        }
        if (body.invite) await deps.accounts.invite(user);
        audit.record({
          action: body.invite ? 'invite.send' : 'user.create',
          actor: caller.user.username,
          target: user.username,
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
        const u = await manageable(caller, params.id);
        if (u === 'forbidden') return sendProblem(reply, 'forbidden');
        if (!u) return sendProblem(reply, 'not_found');
        if (body.email !== undefined) {
          try {
            await store.users.setEmail(u.id, checkEmail(body.email));
            audit.record({ action: 'user.email', actor: caller.user.username, target: u.username });
          } catch (err) {
            if (err instanceof UserInputError)
              return sendProblem(reply, 'invalid_input', { problems: [err.message] });
            if (err instanceof StoreConflictError)
              return sendProblem(reply, 'invalid_input', {
                problems: ['email: another user has this address'],
              });
            throw err;
          }
        }
        if (body.disabled !== undefined) {
          await store.users.setDisabled(u.id, body.disabled ? clock.now() : null);
          audit.record({
            action: body.disabled ? 'user.disable' : 'user.enable',
            actor: caller.user.username,
            target: u.username,
          });
        }
        return userView((await find(u.id)) as User);
      },
    }),
    endpoint({
      method: 'DELETE',
      path: '/users/:id',
      claim: 'gateway.users.write',
      summary: 'Delete a user and everything they own',
      async handler({ params, caller, reply }) {
        const u = await manageable(caller, params.id);
        if (u === 'forbidden') return sendProblem(reply, 'forbidden');
        if (!u || !(await store.users.delete(u.id))) return sendProblem(reply, 'not_found');
        audit.record({ action: 'user.delete', actor: caller.user.username, target: u.username });
        return reply.code(204).send();
      },
    }),
    endpoint<z.output<typeof NewPassword>>({
      method: 'POST',
      path: '/users/:id/password',
      claim: 'gateway.users.write',
      summary: 'Set a user’s password (ends all their sessions)',
      body: NewPassword,
      async handler({ params, body, caller, reply }) {
        const u = await manageable(caller, params.id);
        if (u === 'forbidden') return sendProblem(reply, 'forbidden');
        if (!u) return sendProblem(reply, 'not_found');
        const minLength = deps.snapshots.current.config.accounts.password_min_length;
        const problem = passwordProblem(body.password, { minLength, username: u.username, email: u.email });
        if (problem) return sendProblem(reply, 'invalid_input', { problems: [problem] });
        await store.users.setPasswordHash(u.id, await hashPassword(body.password), {
          endSessions: { now: clock.now() },
        });
        audit.record({ action: 'user.password', actor: caller.user.username, target: u.username });
        return reply.code(204).send();
      },
    }),
    endpoint({
      method: 'POST',
      path: '/users/:id/reset-mail',
      claim: 'gateway.users.write',
      summary: 'Mail the user a password-reset link',
      async handler({ params, caller, reply }) {
        const u = await manageable(caller, params.id);
        if (u === 'forbidden') return sendProblem(reply, 'forbidden');
        if (!u) return sendProblem(reply, 'not_found');
        await deps.accounts.forgot(u.username);
        audit.record({
          action: 'user.password',
          actor: caller.user.username,
          target: u.username,
          detail: { reset_mail: true },
        });
        return reply.code(202).send({ status: 'queued' });
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
        return { sessions: (await deps.sessions.list(u.id)).map(sessionView) };
      },
    }),
    endpoint({
      method: 'DELETE',
      path: '/users/:id/sessions',
      claim: 'gateway.sessions.write',
      summary: 'End all of a user’s sessions',
      async handler({ params, caller, reply }) {
        const u = await manageable(caller, params.id);
        if (u === 'forbidden') return sendProblem(reply, 'forbidden');
        if (!u) return sendProblem(reply, 'not_found');
        const ended = await deps.sessions.endOthers(u.id);
        audit.record({
          action: 'session.end',
          actor: caller.user.username,
          target: u.username,
          detail: { sessions_ended: ended },
        });
        return { ended };
      },
    }),
    endpoint({
      method: 'DELETE',
      path: '/sessions/:id',
      claim: 'gateway.sessions.write',
      summary: 'End one session',
      async handler({ params, caller, reply }) {
        const owner = await store.sessions.ownerOf(params.id ?? '');
        const u = owner ? await manageable(caller, owner) : null;
        if (u === 'forbidden') return sendProblem(reply, 'forbidden');
        if (!u) return sendProblem(reply, 'not_found');
        if (!(await deps.sessions.end(params.id ?? ''))) return sendProblem(reply, 'not_found');
        audit.record({ action: 'session.end', actor: caller.user.username, target: params.id ?? null });
        return reply.code(204).send();
      },
    }),
  ];
}
