// Store URLs as the operator may see them: the password in `postgres://user:password@host/db` is never printed,
// not in a result line and not in an error that happens to repeat it.

const MASK = '***';
/** scheme://userinfo@ — userinfo up to the LAST "@" of the authority, as URL parsers read an unencoded "@". */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;

/** `password=` in the query string, which the PostgreSQL driver reads as well as the userinfo's. */
const QUERY_PASSWORD = /([?&]password=)([^&#]*)/gi;

/** The passwords in `url`'s userinfo and query (as written, and decoded), or [] when it has none. */
function passwordsIn(url: string): string[] {
  const info = USERINFO.exec(url)?.[2];
  const colon = info?.indexOf(':') ?? -1;
  const found = [...url.matchAll(QUERY_PASSWORD)].flatMap((m) => written(m[2] as string));
  if (info === undefined || colon < 0) return found;
  return [...found, ...written(info.slice(colon + 1))];
}

/** A password as written and decoded. */
function written(raw: string): string[] {
  if (raw === '') return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // A malformed escape: only the written form can appear anywhere.
  }
  return decoded === raw ? [raw] : [raw, decoded];
}

/** `url` with its passwords replaced by *** (the user name stays: it says which account was used). */
export function hidePassword(url: string): string {
  return url
    .replace(USERINFO, (_all, scheme: string, info: string) => {
      const colon = info.indexOf(':');
      return colon < 0 ? `${scheme}${info}@` : `${scheme}${info.slice(0, colon)}:${MASK}@`;
    })
    .replace(QUERY_PASSWORD, (_all, key: string, value: string) => (value === '' ? key : `${key}${MASK}`));
}

/**
 * `text` (an error message from a driver, say) with every password of `urls` masked wherever it appears, and on
 * one line: a message is printed as one line on stderr.
 */
export function scrubPasswords(text: string, urls: readonly string[]): string {
  let out = text;
  for (const url of urls) out = out.replaceAll(url, hidePassword(url));
  const secrets = urls.flatMap(passwordsIn).sort((a, b) => b.length - a.length);
  for (const secret of secrets) out = out.replaceAll(secret, MASK);
  return out.replace(/\s*\n\s*/g, ' ').trim();
}
