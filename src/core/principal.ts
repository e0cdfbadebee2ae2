// Who a request is from, once an auth mode has vouched for it. Not signed in is `null`, never an exception.
import type { User } from '../ports/store.ts';

export type AuthMethod = 'bearer' | 'password' | 'magic_link' | `oidc:${string}`;

export interface Principal {
  user: User;
  method: AuthMethod;
  /** For API tokens: the subset of the owner's claims the token may use; null = all. */
  claimLimit: readonly string[] | null;
}
