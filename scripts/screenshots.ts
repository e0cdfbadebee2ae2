// `npm run screenshots`: renders the sign-in pages and the pages of the mail flows in Chromium into
// docs/screenshots/ for the README and reviews.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword } from '../src/crypto/password.ts';
import { compileSnapshot } from '../src/http/snapshot.ts';
import { createUser } from '../src/services/users.ts';
import { launchChromium } from '../test/e2e/chromium.ts';
import { watchProblems } from '../test/e2e/page-problems.ts';
import { ALICE, startStack } from '../test/e2e/stack.ts';
import { startGateway, TestClock } from '../test/helpers/gateway.ts';
import { gatewayClient, startIdp } from '../test/helpers/idp.ts';
import { linkIn, startSmtp } from '../test/helpers/smtp.ts';
import { codeAt } from '../test/helpers/totp.ts';

const VERIFY_HEADING = 'Confirm your email address';
const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const DESKTOP = { width: 1000, height: 760 };
const MOBILE = { width: 390, height: 844 };
// Fixed browser names and a fixed clock keep the account page's session table (and so the PNGs) the same on
// every run: regenerating only changes a file when a page really changed.
const USER_AGENTS = {
  desktop:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
  laptop: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:140.0) Gecko/20100101 Firefox/140.0',
};
const clock = new TestClock(Date.UTC(2026, 0, 15, 9, 30));

const problems: string[] = [];
// The sign-in pages as a default config shows them; the mail flows on a second gateway with open
// registration and a real SMTP server (the magic-link page needs a mailed link).
const stack = await startStack({ clock });
const factors = await startStack({ clock });
const smtp = await startSmtp();
const mailStack = await startStack({ clock, smtpUrl: smtp.url });
const browser = await launchChromium();
// Identity providers: one gateway with two working ones, another whose second provider is down.
const idp = await startIdp();
const providers = (down: boolean) => `
[[oidc]]
id = "corp"
name = "Corporate SSO"
issuer = "${idp.issuer}"
client_id = "hero-gateway"
client_secret = "a-screenshot-client-secret"
[[oidc]]
id = "gitlab"
name = "GitLab"
issuer = "${down ? 'http://127.0.0.1:9' : idp.issuer}"
client_id = "hero-gateway"
client_secret = "a-screenshot-client-secret"
[[route]]
name = "wiki"
path = "/"
upstream = "http://127.0.0.1:9"
auth = ["local", "oauth"]
`;
const oidcUp = await startGateway(providers(false), { clock });
const oidcDown = await startGateway(providers(true), {
  clock,
  oidc: { retry: { firstMs: 50, maxMs: 1000 } },
});
await idp.configure([gatewayClient(`http://localhost:${oidcUp.port}`, 'corp')]);
// The failure pages: a route alice lacks the claim for, and an app that is down.
const failures = await startGateway(
  `
[[route]]
name = "admin"
path = "/admin"
upstream = "http://127.0.0.1:9"
auth = "local"
require_claims = ["admin"]
[[route]]
name = "wiki"
path = "/"
upstream = "http://127.0.0.1:9"
auth = "local"
`,
  { clock },
);
await createUser(failures.store, {
  username: ALICE.username,
  email: ALICE.email,
  emailVerified: true,
  passwordHash: await hashPassword(ALICE.password),
});

async function open(b: Browser, options: Parameters<Browser['newContext']>[0]): Promise<Page> {
  const context: BrowserContext = await b.newContext({ colorScheme: 'light', ...options });
  context.setDefaultTimeout(5000);
  watchProblems(context, problems);
  return context.newPage();
}

async function shot(page: Page, name: string, heading: string): Promise<void> {
  // A screenshot of the wrong page (an error page, a half-loaded one) must never reach the docs.
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), heading, `${name}: wrong page`);
  await page.screenshot({ path: `${OUT}${name}`, fullPage: true });
  console.log(`docs/screenshots/${name}`);
}

async function signIn(page: Page, password: string): Promise<void> {
  await page.getByLabel('Username or email').fill(ALICE.username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

try {
  mkdirSync(OUT, { recursive: true });
  // A second session, so the account page shows a session that can be ended.
  const other = await open(browser, { viewport: DESKTOP, userAgent: USER_AGENTS.laptop });
  await other.goto(`${stack.base}/auth/login`);
  await signIn(other, ALICE.password);
  await other.waitForURL(`${stack.base}/auth/account`);
  clock.advance(95 * 60_000);

  const page = await open(browser, { viewport: DESKTOP, userAgent: USER_AGENTS.desktop });
  await page.goto(`${stack.base}/wiki/start`);
  await shot(page, 'login.png', 'Sign in');

  await signIn(page, 'not my password');
  await page.getByRole('alert').waitFor();
  assert.equal(await page.getByRole('alert').textContent(), 'The username or password is wrong.');
  await shot(page, 'login-error.png', 'Sign in');

  await signIn(page, ALICE.password);
  await page.waitForURL(`${stack.base}/wiki/start`);
  await page.goto(`${stack.base}/auth/account`);
  await page.getByLabel('Name of a new token').fill('backup script');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.getByLabel('Token', { exact: true }).waitFor();
  await shot(page, 'account-token-created.png', 'Your account');
  await page.reload();
  await shot(page, 'account.png', 'Your account');

  const accountPhone = await open(browser, {
    viewport: MOBILE,
    isMobile: true,
    hasTouch: true,
    colorScheme: 'dark',
  });
  await accountPhone.goto(`${stack.base}/auth/login`);
  await signIn(accountPhone, ALICE.password);
  await accountPhone.waitForURL(`${stack.base}/auth/account`);
  await shot(accountPhone, 'account-mobile-dark.png', 'Your account');

  const refused = await open(browser, { viewport: DESKTOP, userAgent: USER_AGENTS.desktop });
  const failuresBase = `http://localhost:${failures.port}`;
  await refused.goto(`${failuresBase}/wiki/start`);
  await signIn(refused, ALICE.password);
  await refused.waitForURL(`${failuresBase}/wiki/start`);
  await shot(refused, 'error-502.png', 'App not reachable');
  await refused.goto(`${failuresBase}/admin/users`);
  await shot(refused, 'error-403.png', 'No access');

  await page.goto(`${stack.base}/auth/logout`);
  await shot(page, 'logout.png', 'Sign out');

  const phone = await open(browser, { viewport: MOBILE, isMobile: true, hasTouch: true });
  await phone.goto(`${stack.base}/wiki/start`);
  await shot(phone, 'login-mobile.png', 'Sign in');

  const mail = await open(browser, { viewport: DESKTOP, userAgent: USER_AGENTS.desktop });
  await mail.goto(`${mailStack.base}/auth/register`);
  await shot(mail, 'register.png', 'Create an account');

  await mail.getByLabel('Username', { exact: true }).fill('nina');
  await mail.getByLabel('Email', { exact: true }).fill('nina@example.com');
  await mail.getByLabel('Password', { exact: true }).fill('a long enough passphrase');
  await mail.getByLabel('Repeat the password').fill('a long enough passphrase');
  await mail.getByRole('button', { name: 'Create account' }).click();
  await mail.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
  await shot(mail, 'check-email.png', 'Check your email');

  // The confirmation link opened in another browser: prove the password, or take the account over.
  const confirmMail = await smtp.waitForMail((m) => m.to.includes('nina@example.com'));
  const elsewhere = await open(browser, { viewport: DESKTOP, userAgent: USER_AGENTS.laptop });
  await elsewhere.goto(linkIn(confirmMail, '/auth/verify').href);
  await shot(elsewhere, 'verify-other-browser.png', VERIFY_HEADING);
  const verifyPhone = await open(browser, {
    viewport: MOBILE,
    isMobile: true,
    hasTouch: true,
    colorScheme: 'dark',
  });
  await verifyPhone.goto(linkIn(confirmMail, '/auth/verify').href);
  await shot(verifyPhone, 'verify-other-browser-mobile-dark.png', VERIFY_HEADING);
  await elsewhere.getByRole('button', { name: "I did not set a password here / I don't know it" }).click();
  await elsewhere.getByRole('heading', { level: 1, name: 'Choose a password' }).waitFor();
  await shot(elsewhere, 'new-password.png', 'Choose a password');

  await mail.goto(`${mailStack.base}/auth/forgot`);
  await shot(mail, 'forgot.png', 'Reset your password');

  await mail.goto(`${mailStack.base}/auth/magic-link`);
  await mail.getByLabel('Email', { exact: true }).fill(ALICE.email);
  await mail.getByRole('button', { name: 'Mail me a sign-in link' }).click();
  await mail.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
  const sent = await smtp.waitForMail((m) => m.to.includes(ALICE.email));
  await mail.goto(linkIn(sent, '/auth/magic').href);
  assert.match((await mail.locator('main').textContent()) ?? '', /Sign in as alice@example\.com\?/);
  await shot(mail, 'magic-confirm.png', 'Sign in with your email link');

  const sso = await open(browser, { viewport: DESKTOP, userAgent: USER_AGENTS.desktop });
  await sso.goto(`http://localhost:${oidcUp.port}/wiki/start`);
  await shot(sso, 'login-oidc.png', 'Sign in');
  await sso.goto(`http://localhost:${oidcUp.port}/auth/oauth/corp/callback?state=${'A'.repeat(43)}&code=x`);
  await shot(sso, 'oidc-error.png', 'Sign-in not completed');
  for (let tries = 0; ; tries++) {
    await sso.goto(`http://localhost:${oidcDown.port}/wiki/start`);
    if ((await sso.locator('main').textContent())?.includes('unavailable right now')) break;
    assert.ok(tries < 50, 'the down provider was never marked unavailable');
    await new Promise((r) => setTimeout(r, 100));
  }
  await shot(sso, 'login-oidc-down.png', 'Sign in');

  // Second factors, on a gateway whose public_url is the browser's origin (passkeys are offered there).
  const { config } = factors.gw.gateway.snapshots.current;
  factors.gw.gateway.snapshots.current = compileSnapshot({
    ...config,
    server: { ...config.server, public_url: factors.base },
  });
  const mfa = await open(browser, { viewport: DESKTOP, userAgent: USER_AGENTS.desktop });
  await mfa.goto(`${factors.base}/auth/login`);
  await shot(mfa, 'login-passkey.png', 'Sign in');
  await signIn(mfa, ALICE.password);
  await mfa.waitForURL(`${factors.base}/auth/account`);
  await mfa.goto(`${factors.base}/auth/account/security`);
  await mfa.getByRole('button', { name: 'Add an authenticator app' }).click();
  await shot(mfa, 'totp-enrol.png', 'Set up an authenticator app');
  const secret = ((await mfa.locator('code.secret').textContent()) ?? '').replace(/\s/g, '');
  const code = codeAt(secret, clock.now());
  await mfa.getByLabel('Code from your authenticator app').fill(code);
  await mfa.getByRole('button', { name: 'Turn on' }).click();
  await shot(mfa, 'recovery-codes.png', 'Your recovery codes');
  await mfa.getByRole('link', { name: 'I saved them, continue' }).click();
  await shot(mfa, 'security.png', 'Sign-in security');
  clock.advance(30_000);
  const challenge = await open(browser, { viewport: DESKTOP, userAgent: USER_AGENTS.desktop });
  await challenge.goto(`${factors.base}/auth/login`);
  await signIn(challenge, ALICE.password);
  await challenge.waitForURL(`${factors.base}/auth/mfa`);
  await shot(challenge, 'mfa-challenge.png', 'Confirm it is you');
  const challengePhone = await open(browser, {
    viewport: MOBILE,
    isMobile: true,
    hasTouch: true,
    colorScheme: 'dark',
  });
  await challengePhone.goto(`${factors.base}/auth/login`);
  await signIn(challengePhone, ALICE.password);
  await challengePhone.waitForURL(`${factors.base}/auth/mfa`);
  await shot(challengePhone, 'mfa-challenge-mobile-dark.png', 'Confirm it is you');
  const securityPhone = await open(browser, {
    viewport: MOBILE,
    isMobile: true,
    hasTouch: true,
    colorScheme: 'dark',
  });
  await securityPhone.goto(`${factors.base}/auth/login`);
  await signIn(securityPhone, ALICE.password);
  await securityPhone.waitForURL(`${factors.base}/auth/mfa`);
  await securityPhone.getByLabel('Code from your authenticator app').fill(codeAt(secret, clock.now()));
  await securityPhone.getByRole('button', { name: 'Confirm', exact: true }).click();
  await securityPhone.waitForURL(`${factors.base}/auth/account`);
  await securityPhone.goto(`${factors.base}/auth/account/security`);
  await shot(securityPhone, 'security-mobile-dark.png', 'Sign-in security');

  assert.deepEqual(problems, [], 'the pages logged errors');
} finally {
  await browser.close();
  await failures.close();
  await oidcUp.close();
  await oidcDown.close();
  await idp.close();
  await mailStack.close();
  await smtp.close();
  await stack.close();
  await factors.close();
}
