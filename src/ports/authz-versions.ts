// The authz-version port: how the identity caches learn that users, sessions, grants or API tokens changed in
// any process. A backend either answers when asked (an embedded database polls its version row) or keeps the
// last version its database pushed (a server database's change notifications) and answers from memory.

/** No version can be vouched for now (a push channel that dropped): callers trust and keep no cached identity. */
export const UNKNOWN_VERSION = 'unknown';

/** Moves (any change of value, not only upwards) whenever anything an identity cache holds may have changed. */
export type AuthzVersion = number | typeof UNKNOWN_VERSION;

export interface AuthzVersions {
  /**
   * The current version: synchronously when the backend can answer without waiting (an embedded database, or a
   * value pushed to it), otherwise a promise. UNKNOWN_VERSION fails closed: every cache is dropped and nothing
   * read while it lasts is kept, so each request reads the store itself. A version that cannot be read at all
   * rejects (or throws), and the request fails.
   */
  current(): AuthzVersion | Promise<AuthzVersion>;
}
