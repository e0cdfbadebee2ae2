// The account page as a person sees it in Chromium, on a phone (390×844) and a desktop (1280×800), light and
// dark: no sideways scrolling, each Revoke/End button inside the row of what it acts on, a create-token form
// whose fields keep a usable width, and a new token shown once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { watchProblems } from './page-problems.ts';
import { ALICE, type Stack, startStack } from './stack.ts';

const missing = chromiumMissing();
const skip = missing !== null && !process.env.CI ? missing : false;

const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;
/** Narrower than this and a name or a select stops being usable. */
const MIN_INPUT_WIDTH = 160;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 0.5 &&
  inner.y >= outer.y - 0.5 &&
  inner.x + inner.width <= outer.x + outer.width + 0.5 &&
  inner.y + inner.height <= outer.y + outer.height + 0.5;

describe('account page layout in Chromium', { skip }, () => {
  let stack: Stack;
  let browser: Browser;
  const problems: string[] = [];

  async function signedIn(
    options: Parameters<Browser['newContext']>[0],
  ): Promise<{ c: BrowserContext; p: Page }> {
    const c = await browser.newContext(options);
    c.setDefaultTimeout(5000);
    watchProblems(c, problems);
    const p = await c.newPage();
    await p.goto(`${stack.base}/auth/login`);
    await p.getByLabel('Username or email').fill(ALICE.username);
    await p.getByLabel('Password', { exact: true }).fill(ALICE.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(`${stack.base}/auth/account`);
    return { c, p };
  }

  before(async () => {
    if (missing) throw new Error(missing);
    [stack, browser] = await Promise.all([startStack(), launchChromium()]);
    // A second session (so there is one to end) and two tokens, one with a long name.
    const { c, p } = await signedIn({
      userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:140.0) Gecko/20100101 Firefox/140.0',
    });
    for (const name of ['backup script', 'a-rather-long-token-name-for-the-nightly-deploy-job']) {
      await p.getByLabel('Name of a new token').fill(name);
      await p.getByRole('button', { name: 'Create token' }).click();
      await p.locator('#new-token').waitFor();
    }
    await c.close();
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test('a new token is shown once; reloading the page neither shows it again nor makes another', async () => {
    const { c, p } = await signedIn({ viewport: { width: 1280, height: 800 } });
    try {
      const rows = p.getByRole('table', { name: 'API tokens' }).locator('tbody tr');
      const before = await rows.count();
      await p.getByLabel('Name of a new token').fill('reload check');
      await p.getByRole('button', { name: 'Create token' }).click();
      const token = await p.locator('#new-token').inputValue();
      assert.match(token, /^hgw_/);
      assert.ok(!p.url().includes(token), 'not in the URL');
      assert.equal(await rows.count(), before + 1);
      await p.reload();
      assert.equal(await p.locator('#new-token').count(), 0, 'shown once');
      assert.equal(await rows.count(), before + 1, 'the reload made no second token');
      await rows
        .filter({ hasText: 'reload check' })
        .getByRole('button', { name: /Revoke/ })
        .click();
      await p.getByRole('status').filter({ hasText: 'The token was revoked.' }).waitFor();
      assert.equal(await rows.count(), before);
    } finally {
      await c.close();
    }
  });

  for (const vp of VIEWPORTS)
    for (const colorScheme of ['light', 'dark'] as const)
      test(`${vp.name} ${vp.width}×${vp.height}, ${colorScheme}: fits, buttons on their rows, usable fields`, async () => {
        const { c, p } = await signedIn({ viewport: { width: vp.width, height: vp.height }, colorScheme });
        try {
          const widths = await p.evaluate<[number, number]>(
            '[document.documentElement.scrollWidth, window.innerWidth]',
          );
          assert.ok(widths[0] <= widths[1], `no sideways scrolling: ${widths[0]} > ${widths[1]}`);

          const buttons = p.locator('tbody tr button');
          assert.ok((await buttons.count()) >= 3, 'one End and at least two Revoke buttons');
          for (const button of await buttons.all()) {
            const row = button.locator('xpath=ancestor::tr[1]');
            const [b, r] = [await button.boundingBox(), await row.boundingBox()];
            assert.ok(b && r, 'both are shown');
            assert.ok(
              inside(b, r),
              `${await button.textContent()}: ${JSON.stringify(b)} outside ${JSON.stringify(r)}`,
            );
            const main = await p.locator('main').boundingBox();
            assert.ok(main && inside(b, main), 'inside the card');
          }

          for (const label of ['Name of a new token', 'Expires after']) {
            const box = await p.getByLabel(label).boundingBox();
            assert.ok(box && box.width >= MIN_INPUT_WIDTH, `${label}: ${box?.width}px wide`);
          }
          const create = await p.getByRole('button', { name: 'Create token' }).boundingBox();
          assert.ok(create && create.width >= 80, 'the create button is not squeezed');
        } finally {
          await c.close();
        }
      });

  test('no console errors, CSP violations or failed loads', () => {
    assert.deepEqual(problems, []);
  });
});
