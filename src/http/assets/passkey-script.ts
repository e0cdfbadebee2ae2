// The one script the gateway serves (passkey.js, next to this file), read once at start, with a version of its
// content for the URL so a new release is never hidden by a cached copy.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const PASSKEY_SCRIPT = readFileSync(new URL('./passkey.js', import.meta.url), 'utf8');
export const PASSKEY_SCRIPT_VERSION = createHash('sha256').update(PASSKEY_SCRIPT).digest('hex').slice(0, 12);
