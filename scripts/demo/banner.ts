// What the demo prints once everything listens: where to go, who to sign in as, which file to edit, where mail goes.

export interface BannerInfo {
  /** The gateway's public_url (what a browser opens). */
  publicUrl: string;
  /** The address it listens on, as the gateway itself reported it. */
  gatewayUrl: string;
  adminUrl: string | null;
  /** The config file, as the user would type it. */
  file: string;
  /** ` -c FILE` for CLI commands, or '' when the file is the command's default (./hero-gateway.toml). */
  configFlag: string;
  smtpHost: string | null;
  sso: boolean;
  password: string;
}

const entry = (label: string, what: string, ...more: string[]) =>
  [`  ${label.padEnd(7)}${what}`, ...more.map((m) => `         ${m}`)].join('\n');

export function banner(b: BannerInfo): string {
  const u = b.publicUrl;
  const lines = [
    '',
    `  hero-gateway demo is running (the gateway listens on ${b.gatewayUrl})`,
    '',
    entry('config', b.file, 'the file being served: edit it and save, and the gateway reloads it'),
    entry('open', `${u}/`, 'the whoami app behind a public route (auth = "none")'),
    entry(
      'app',
      `${u}/app/`,
      `sign in as demo, password "${b.password}" (auth = "local");`,
      'the app then sees X-Hero-User: demo. Your account: /auth/account',
    ),
  ];
  if (b.sso)
    lines.push(
      entry(
        'sso',
        `${u}/sso/`,
        'through the demo identity provider (auth = "oauth"): any name, any password;',
        'back here as <name>, X-Hero-Auth-Method: oidc:demo',
      ),
    );
  lines.push(
    entry('try', `curl -i ${u}/api/`, '401: route "api" needs an API token (auth = "bearer")'),
    entry(
      'token',
      `TOKEN=$(npx hero-gateway token create${b.configFlag} --user demo --name try)`,
      `curl -H "Authorization: Bearer $TOKEN" ${u}/api/`,
    ),
    entry(
      'mail',
      b.smtpHost
        ? `sent through ${b.smtpHost} (mail.smtp_url)`
        : 'printed in this console by the gateway (mail.smtp_url is not set)',
    ),
  );
  if (b.adminUrl) lines.push(entry('admin', `${b.adminUrl}/readyz`));
  lines.push(entry('stop', 'Ctrl-C'), '', '');
  return lines.join('\n');
}
