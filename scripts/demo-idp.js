// The demo's own OpenID provider (npm oidc-provider) on 127.0.0.1:9000, so `npm start` shows sign-in through
// an identity provider with nothing to register anywhere. Development only: any name signs in, any password.
import Provider from 'oidc-provider';

const GATEWAY = 'http://localhost:8080';
export const DEMO_IDP = {
  port: 9000,
  issuer: 'http://127.0.0.1:9000',
  clientId: 'hero-gateway-demo',
  clientSecret: 'demo-client-secret-not-for-production',
};

export function startDemoIdp() {
  // The library prints development notices as it starts; the demo says what matters itself.
  const { warn, info } = console;
  console.warn = () => {};
  console.info = () => {};
  let provider;
  try {
    provider = new Provider(DEMO_IDP.issuer, {
      clients: [
        {
          client_id: DEMO_IDP.clientId,
          client_secret: DEMO_IDP.clientSecret,
          redirect_uris: [`${GATEWAY}/auth/oauth/demo/callback`],
          post_logout_redirect_uris: [`${GATEWAY}/auth/login?done=logout`],
          backchannel_logout_uri: `${GATEWAY}/auth/oauth/demo/backchannel-logout`,
          backchannel_logout_session_required: true,
        },
      ],
      cookies: { keys: ['demo-provider-cookie-key'] },
      scopes: ['openid', 'email', 'profile', 'groups'],
      claims: { email: ['email', 'email_verified'], profile: ['preferred_username'], groups: ['groups'] },
      features: {
        devInteractions: { enabled: true },
        backchannelLogout: { enabled: true },
        rpInitiatedLogout: { enabled: true },
      },
      ttl: {
        AccessToken: 600,
        AuthorizationCode: 60,
        Grant: 3600,
        IdToken: 600,
        Interaction: 600,
        Session: 3600,
      },
      // Whatever name is typed is an account: "<name>@example.com", confirmed, in the group "demo".
      async findAccount(_ctx, id) {
        const name =
          String(id)
            .toLowerCase()
            .replace(/[^a-z0-9._-]/g, '') || 'someone';
        return {
          accountId: id,
          claims: async () => ({
            sub: id,
            email: `${name}@example.com`,
            email_verified: true,
            preferred_username: name,
            groups: ['demo'],
          }),
        };
      },
      // The demo's only client is first-party: no consent screen.
      async loadExistingGrant(ctx) {
        const { client, session } = ctx.oidc;
        if (!client || !session?.accountId) return undefined;
        const existing = session.grantIdFor(client.clientId);
        const found = existing && (await ctx.oidc.provider.Grant.find(existing));
        if (found) return found;
        const grant = new ctx.oidc.provider.Grant({
          clientId: client.clientId,
          accountId: session.accountId,
        });
        grant.addOIDCScope('openid email profile groups');
        await grant.save();
        return grant;
      },
      // The gateway it calls back (back-channel logout) is on this machine, which the provider's guard
      // against requests to private addresses would refuse.
      fetch: (url, options) => {
        const { dispatcher: _guard, ...rest } = options ?? {};
        return fetch(url, rest);
      },
    });
  } finally {
    console.warn = warn;
    console.info = info;
  }
  return provider.listen(DEMO_IDP.port, '127.0.0.1');
}
