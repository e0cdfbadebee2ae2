// An authenticator app, as tests play it: the code it shows for a secret at an instant, and the parts of the
// gateway's enrolment page (the secret shown as text, the factor being set up) a test reads to answer it.
import { Secret, TOTP } from 'otpauth';

/** The code an authenticator app holding `secret` (base32) shows at `at` (ms): SHA-1, 6 digits, 30 s. */
export const codeAt = (secret: string, at: number): string =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
    timestamp: at,
  });

/** The secret the enrolment page shows as text, without the spaces it is grouped by. */
export const secretIn = (body: string): string =>
  (/<code class="secret">([^<]+)<\/code>/.exec(body)?.[1] ?? '').replace(/\s/g, '');

/** The factor the enrolment page's confirm form names. */
export const factorIdIn = (body: string): string => /name="factor_id" value="([^"]+)"/.exec(body)?.[1] ?? '';
