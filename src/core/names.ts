// The character sets of names users and operators choose: one definition each, shared by config and CLI.

/** Usernames, route names, role names: lower-case, safe in headers and URLs, immutable once used. */
export const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Claims such as "wiki.read" or "gateway.admin". */
export const CLAIM = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Contexts and group names (IdP group names may be mixed-case and namespaced with ":"). */
export const LABEL = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
