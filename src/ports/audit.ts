// The audit port: security events (who signed in, who changed what), never secrets. Recording never fails the
// caller: an audit sink that is down is reported to the log, and the request goes on.

export type AuditAction =
  | 'login.success'
  | 'login.failure'
  | 'login.throttled'
  | 'logout'
  | 'session.end'
  | 'password.change'
  | 'password.reset'
  | 'email.verify'
  | 'account.takeover_reset'
  | 'register'
  | 'invite.send'
  | 'invite.accept'
  | 'setup.complete'
  | 'token.create'
  | 'token.revoke'
  | 'user.create'
  | 'user.password'
  | 'user.disable'
  | 'user.enable'
  | 'user.delete'
  | 'user.email'
  | 'role.set'
  | 'group.add'
  | 'group.remove'
  | 'grant.add'
  | 'grant.remove'
  | 'config.reload'
  | 'oidc.link'
  | 'oidc.provision_refused'
  | 'oidc.backchannel_logout'
  | 'second_factor.reset'
  | 'second_factor.add'
  | 'second_factor.remove'
  | 'second_factor.rename'
  | 'second_factor.failure'
  | 'second_factor.throttled'
  | 'recovery_codes.regenerate'
  | 'recovery_code.use'
  | 'login.second_factor_pending'
  | 'login.step_up';

export interface AuditEvent {
  action: AuditAction;
  /** Who did it: a username, "cli", or null when unknown (a failed sign-in). */
  actor?: string | null;
  /** What it was done to: a username, token id, session id, role or group. */
  target?: string | null;
  ip?: string | null;
  /** Extra facts; never a password, token or cookie value. */
  detail?: Record<string, unknown>;
}

export interface AuditLog {
  record(event: AuditEvent): void;
}

export const noAudit: AuditLog = { record() {} };
