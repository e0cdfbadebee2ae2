// Launches the system's Chromium (Debian package) for the browser tests and the screenshot script.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

// Only the distribution's build: a browser downloaded by `playwright install` would be one more unpinned,
// unreviewed binary in CI.
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why the browser cannot run here, or null when it can. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `${CHROMIUM_PATH} is missing (apt-get install chromium)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // No sandbox: CI containers lack the user namespaces it needs. No background networking: a test must
    // not depend on (or wait for) anything outside this machine.
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
  });
}
