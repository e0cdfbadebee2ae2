// The second-factor pages as markup: a QR code the CSP lets through, escaped values, the passkey offered before
// the code, no inline style anywhere, and every visible input named by its label.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SafeHtml } from '../../src/core/html.ts';
import { qrSvg } from '../../src/http/views/qr.ts';
import {
  enrolmentRequired,
  mfaChallenge,
  recoveryCodesShown,
  securityOverview,
  totpEnrolment,
} from '../../src/http/views/second-factor-pages.ts';

const EVIL = '<script>alert(1)</script>';
const URI =
  'otpauth://totp/Hero%20Gateway:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Hero%20Gateway';
const OPTIONS = JSON.stringify({ challenge: 'abc', allowCredentials: [] });
const challenge = (over: Partial<Parameters<typeof mfaChallenge>[0]> = {}) =>
  mfaChallenge({
    action: '/auth/mfa',
    csrf: 'c',
    returnTo: '/wiki',
    username: 'alice',
    after: 'password',
    totp: true,
    passkey: { options: OPTIONS },
    recovery: true,
    invalid: null,
    cancel: { action: '/auth/logout' },
    ...over,
  });
const factors = [
  { id: 'f1', kind: 'totp' as const, name: 'Phone', createdAt: Date.UTC(2026, 0, 1), lastUsedAt: null },
  { id: 'f2', kind: 'webauthn' as const, name: EVIL, createdAt: Date.UTC(2026, 0, 2), lastUsedAt: 0 },
];
const overview = (over: Partial<Parameters<typeof securityOverview>[0]> = {}) =>
  securityOverview({
    prefix: '/auth',
    csrf: 'c',
    factors,
    recoveryLeft: 7,
    unlocked: true,
    proof: 'password',
    required: false,
    passkey: { options: OPTIONS },
    invalid: false,
    ...over,
  });

/** Every page in every state worth rendering. */
const PAGES: [string, SafeHtml][] = [
  ['challenge, all three', challenge()],
  ['challenge, code refused', challenge({ passkey: null, invalid: 'code' })],
  ['challenge, recovery refused', challenge({ invalid: 'recovery' })],
  ['challenge, passkey only', challenge({ totp: false, recovery: false })],
  [
    'enrolment',
    totpEnrolment({
      action: '/auth/mfa/totp',
      csrf: 'c',
      factorId: 'f1',
      secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
      uri: URI,
      name: 'Authenticator app',
      invalid: true,
      returnTo: '/wiki',
      cancelHref: '/auth/account/security',
    }),
  ],
  [
    'recovery codes',
    recoveryCodesShown({ codes: ['aaaa-bbbb', EVIL], next: { href: '/wiki', label: 'Continue' } }),
  ],
  ['overview, unlocked', overview()],
  ['overview, locked, password', overview({ unlocked: false, invalid: true })],
  ['overview, locked, code', overview({ unlocked: false, proof: 'code' })],
  ['overview, none', overview({ factors: [], recoveryLeft: 0, passkey: null })],
  [
    'enrolment required',
    enrolmentRequired({
      prefix: '/auth',
      csrf: 'c',
      totpAction: '/auth/mfa/totp',
      passkey: { action: '/auth/mfa/passkey', options: OPTIONS },
      cancel: { action: '/auth/logout' },
    }),
  ],
];

const attr = (tag: string, name: string) => new RegExp(`\\s${name}(?:="([^"]*)")?[\\s>]`).exec(tag);

describe('second-factor views', () => {
  test('the QR code is an SVG image with a viewBox, a label and no style', () => {
    const svg = qrSvg(URI, 'QR code for <alice>').value;
    assert.match(svg, /^<svg [^>]*viewBox="0 0 (\d+) \1"/);
    assert.match(svg, /role="img"/);
    assert.match(svg, /aria-label="QR code for &lt;alice&gt;"/);
    assert.match(svg, /class="qr"/);
    assert.doesNotMatch(svg, /style/i);
    assert.match(svg, /<rect [^>]*fill="#ffffff"/);
    assert.match(svg, /<path fill="#000000" d="(M\d+ \d+h\d+v1h-\d+z)+"/);
  });

  test('the QR code keeps a quiet zone of 4 modules on every side', () => {
    const svg = qrSvg('hi', 'x').value;
    const side = Number(/viewBox="0 0 (\d+)/.exec(svg)?.[1]);
    const moves = [...svg.matchAll(/M(\d+) (\d+)h(\d+)/g)].map((m) => m.slice(1).map(Number));
    assert.equal(Math.min(...moves.map(([x]) => x as number)), 4);
    assert.equal(Math.min(...moves.map(([, y]) => y as number)), 4);
    assert.equal(Math.max(...moves.map(([x, , w]) => (x as number) + (w as number))), side - 4);
    assert.equal(Math.max(...moves.map(([, y]) => y as number)), side - 5);
  });

  test('values are escaped', () => {
    const all = PAGES.map(([, p]) => p.value).join('\n');
    assert.ok(!all.includes(EVIL));
    assert.ok(all.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(challenge({ username: EVIL }).value.includes('<strong>&lt;script&gt;'));
    assert.ok(challenge().value.includes(`data-options="${OPTIONS.replaceAll('"', '&quot;')}"`));
  });

  test('the challenge offers the passkey before the code, and the code before the recovery code', () => {
    const page = challenge().value;
    const passkey = page.indexOf('data-passkey="authenticate"');
    const code = page.indexOf('name="code"');
    const recovery = page.indexOf('name="recovery_code"');
    assert.ok(passkey !== -1 && passkey < code && code < recovery, `${passkey} ${code} ${recovery}`);
    assert.doesNotMatch(page, /name="code"[^>]*autofocus/, 'the passkey is the first choice');
    assert.match(challenge({ passkey: null }).value, /name="code"[^>]*autofocus/);
  });

  test('the recovery code opens when it was refused, and only then', () => {
    assert.match(challenge({ invalid: 'recovery' }).value, /<details class="recovery" open>/);
    assert.match(challenge().value, /<details class="recovery">/);
  });

  test('the passkey button waits for the script; without it a note says why', () => {
    const page = challenge().value;
    assert.match(
      page,
      /<div data-passkey-needs-js hidden>\s*<div class="actions"><button type="button" data-passkey-start>/,
    );
    // Registering: the name goes with the button, so a browser without script shows no field it cannot use.
    const register = overview().value;
    assert.match(register, /<div data-passkey-needs-js hidden><label for="f-passkey-name">/);
    assert.match(page, /<p [^>]*data-passkey-no-js>Passkeys need JavaScript/);
    assert.match(page, /<input type="hidden" name="credential">/);
  });

  test('locked, the overview lists the factors read-only and asks for the proof', () => {
    const locked = overview({ unlocked: false }).value;
    assert.doesNotMatch(locked, /security\/(rename|remove|totp|passkey|recovery)"/);
    assert.match(locked, /action="\/auth\/account\/security\/confirm"/);
    assert.match(locked, /autocomplete="current-password"/);
    assert.match(overview({ unlocked: false, proof: 'code' }).value, /name="code"[^>]*one-time-code/);
    assert.match(
      overview({ unlocked: false, invalid: true }).value,
      /name="password"[^>]*aria-invalid="true"/,
    );
    assert.match(locked, /never/);
  });

  test('a required second factor cannot lose its last one', () => {
    assert.equal(overview().value.match(/security\/remove"/g)?.length, 2);
    assert.equal(overview({ required: true }).value.match(/security\/remove"/g)?.length, 2);
    const last = overview({ required: true, factors: factors.slice(0, 1) }).value;
    assert.doesNotMatch(last, /security\/remove"/);
    assert.match(last, /at least one/);
  });

  for (const [name, page] of PAGES) {
    test(`${name}: no inline style, every form posts with a CSRF token`, () => {
      assert.doesNotMatch(page.value, /\sstyle\s*=|<style/i);
      const forms = page.value.split('<form ').slice(1);
      assert.ok(forms.length > 0 || name === 'recovery codes');
      for (const form of forms) {
        assert.match(form, /^method="post"/);
        assert.match(form.slice(0, form.indexOf('</form>')), /<input type="hidden" name="csrf" value="c">/);
      }
    });

    test(`${name}: every visible input has a unique id named by a label`, () => {
      const ids = [...page.value.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]);
      assert.deepEqual(ids, [...new Set(ids)], 'ids are unique');
      for (const [tag] of page.value.matchAll(/<(input|select|textarea)\b[^>]*>/g)) {
        if (attr(tag, 'type')?.[1] === 'hidden' || attr(tag, 'hidden')) continue;
        const id = attr(tag, 'id')?.[1];
        assert.ok(id, `no id: ${tag}`);
        assert.ok(page.value.includes(`<label for="${id}">`), `no label for ${id}`);
      }
    });
  }
});
