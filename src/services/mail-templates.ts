// The mails the gateway sends, as plain text and HTML. Rendered at send time from the queued data, so the
// sealed queue holds only facts (a link, a name), never markup.
import { html, type SafeHtml } from '../core/html.ts';

export type MailTemplate =
  | 'verify_email'
  | 'reset_password'
  | 'magic_login'
  | 'invite'
  | 'already_registered'
  | 'recovery_code_used'
  | 'second_factor_added'
  | 'second_factor_removed'
  | 'recovery_codes_regenerated';

export interface MailData {
  /** The action link (built from public_url, never from a request's Host). */
  link: string;
  username?: string | undefined;
  /** Recovery codes left (recovery_code_used). */
  left?: number | undefined;
  /** The factor's name (second_factor_added, second_factor_removed). */
  factor?: string | undefined;
  /** API tokens revoked with it (second_factor_added). */
  tokens?: number | undefined;
}

export interface Branding {
  title: string;
  accent: string;
}

interface Parts {
  subject: string;
  greeting: string;
  lines: string[];
  button: string;
  footer: string;
}

function parts(t: MailTemplate, d: MailData, title: string): Parts {
  const hi = d.username ? `Hello ${d.username},` : 'Hello,';
  switch (t) {
    case 'verify_email':
      return {
        subject: `Confirm your email address for ${title}`,
        greeting: hi,
        lines: ['Please confirm that this address belongs to your account.'],
        button: 'Confirm my address',
        footer: 'The link works once, for 24 hours. If you did not create an account, ignore this mail.',
      };
    case 'reset_password':
      return {
        subject: `Reset your ${title} password`,
        greeting: hi,
        lines: ['Someone asked to reset the password of your account. If it was you, choose a new one here.'],
        button: 'Choose a new password',
        footer:
          'The link works once, for 1 hour. If it was not you, ignore this mail: your password stays as it is.',
      };
    case 'magic_login':
      return {
        subject: `Your ${title} sign-in link`,
        greeting: hi,
        lines: ['Use this link to sign in. You will be asked to confirm.'],
        button: 'Sign in',
        footer: 'The link works once, for 15 minutes. If you did not ask for it, ignore this mail.',
      };
    case 'invite':
      return {
        subject: `You are invited to ${title}`,
        greeting: hi,
        lines: [
          `An account was created for you${d.username ? ` with the username ${d.username}` : ''}. Choose your password to start.`,
        ],
        button: 'Choose my password',
        footer: 'The link works once, for 7 days.',
      };
    case 'already_registered':
      return {
        subject: `Someone tried to register at ${title} with your address`,
        greeting: hi,
        lines: [
          'Someone tried to create an account with this email address, but you already have one.',
          'If it was you and you forgot your password, you can reset it.',
        ],
        button: 'Reset my password',
        footer: 'If it was not you, ignore this mail: nothing has changed.',
      };
    case 'recovery_code_used':
      return {
        subject: `A recovery code was used to sign in to ${title}`,
        greeting: hi,
        lines: [
          `Someone signed in to your account with one of your recovery codes. ${d.left ?? 0} of them ${d.left === 1 ? 'is' : 'are'} left.`,
          'If it was you, check your sign-in security: add a new authenticator or make new codes.',
          'If it was not you, change your password now and make new recovery codes: someone has your password and your codes.',
        ],
        button: 'Check my sign-in security',
        footer: 'Each recovery code works once.',
      };
    case 'second_factor_added':
      return {
        subject: `A second step was added to your ${title} sign-in`,
        greeting: hi,
        lines: [
          `"${d.factor ?? 'A second factor'}" now confirms it is you after your password. Your other sessions were signed out.`,
          ...(d.tokens
            ? [
                `${d.tokens} API ${d.tokens === 1 ? 'token was' : 'tokens were'} revoked: ${d.tokens === 1 ? 'it was' : 'they were'} made before the account had a second factor. Make new ones on your account page.`,
              ]
            : []),
          'If it was not you, someone has your password: reset it now and remove this factor.',
        ],
        button: 'Check my sign-in security',
        footer: 'You get this mail whenever a second factor is added or removed.',
      };
    case 'second_factor_removed':
      return {
        subject: `A second step was removed from your ${title} sign-in`,
        greeting: hi,
        lines: [
          `"${d.factor ?? 'A second factor'}" was removed from your account.`,
          'If it was not you, change your password now and check your sign-in security.',
        ],
        button: 'Check my sign-in security',
        footer: 'You get this mail whenever a second factor is added or removed.',
      };
    case 'recovery_codes_regenerated':
      return {
        subject: `New recovery codes for your ${title} account`,
        greeting: hi,
        lines: [
          'New recovery codes were made for your account; the old ones no longer work.',
          'If it was not you, someone can sign in as you: change your password now, then make new codes and check your sign-in security.',
        ],
        button: 'Check my sign-in security',
        footer: 'You get this mail whenever new recovery codes are made.',
      };
  }
}

export function renderMail(
  t: MailTemplate,
  d: MailData,
  b: Branding,
): { subject: string; text: string; html: string } {
  const p = parts(t, d, b.title);
  const text = [
    p.greeting,
    '',
    ...p.lines,
    '',
    `${p.button}: ${d.link}`,
    '',
    p.footer,
    '',
    `— ${b.title}`,
  ].join('\n');
  // Mail clients ignore stylesheets: inline styles only, and the link also as text for clients without HTML.
  const body: SafeHtml = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${p.subject}</title></head>
<body style="margin:0;padding:24px;background:#f6f8fa;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328">
<div style="max-width:480px;margin:0 auto;background:#ffffff;border:1px solid #d1d9e0;border-radius:12px;padding:28px">
<p style="margin:0 0 16px;font-weight:600;color:#59636e">${b.title}</p>
<p style="margin:0 0 12px">${p.greeting}</p>
${p.lines.map((l) => html`<p style="margin:0 0 12px">${l}</p>`)}
<p style="margin:24px 0"><a href="${d.link}" style="display:inline-block;background:${b.accent};color:#ffffff;text-decoration:none;font-weight:600;padding:12px 18px;border-radius:8px">${p.button}</a></p>
<p style="margin:0 0 12px;font-size:13px;color:#59636e">Or open this address: <a href="${d.link}" style="color:${b.accent};word-break:break-all">${d.link}</a></p>
<p style="margin:0;font-size:13px;color:#59636e">${p.footer}</p>
</div>
</body></html>`;
  return { subject: p.subject, text, html: body.value };
}
