// Collects what a user would never see but a broken page reveals: console errors (CSP violations among them),
// uncaught errors, and subresources that failed to load.
import type { BrowserContext } from 'playwright-core';

// Chromium also logs every 4xx/5xx answer to the console. Statuses are judged below, where the kind of
// request is known; this also leaves out the favicon the browser fetches on its own, which no page asks for.
const STATUS_LOG = /^Failed to load resource: the server responded with a status of/;

export function watchProblems(context: BrowserContext, into: string[]): void {
  context.on('console', (msg) => {
    if (msg.type() === 'error' && !STATUS_LOG.test(msg.text()))
      into.push(`console: ${msg.text()} (${msg.location().url})`);
  });
  context.on('weberror', (e) => into.push(`uncaught: ${e.error().message}`));
  context.on('requestfailed', (r) => {
    // The browser fetches the page icon after the page loaded; navigating on cancels that fetch. Not a fault.
    const aborted = r.failure()?.errorText === 'net::ERR_ABORTED';
    if (aborted && r.url().includes('/assets/icon.svg')) return;
    into.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  // Documents are left out: a refused sign-in is a 401 page on purpose.
  context.on('response', (r) => {
    if (r.status() >= 400 && r.request().resourceType() !== 'document')
      into.push(`${r.status()}: ${r.url()}`);
  });
}
