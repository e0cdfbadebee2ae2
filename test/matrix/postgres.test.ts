// The backend matrix: the feature tests that touch the store (sessions, bearer tokens, claims and their caches,
// mail flows, invites, identity providers, the admin API, the CLI, second factors) run again here with every
// test gateway on its own fresh PostgreSQL database (test/helpers/gateway.ts reads HERO_TEST_STORE). The same
// tests, not copies: a behaviour one backend has and the other lacks fails here.
process.env.HERO_TEST_STORE = 'postgres';

// Imported only after the variable is set: the helpers read it when they load.
await import('../features/sessions.test.ts');
await import('../features/bearer.test.ts');
await import('../features/stale-cache.test.ts');
await import('../features/account-use-cases.test.ts');
await import('../features/mail-flows.test.ts');
await import('../features/invites.test.ts');
await import('../features/oidc-signin.test.ts');
await import('../features/oidc-lifecycle.test.ts');
await import('../features/admin-api.test.ts');
await import('../features/cli-admin.test.ts');
await import('../features/second-factor-services.test.ts');
await import('../features/second-factor.test.ts');
await import('../features/passkeys-service.test.ts');
await import('../features/second-factor-oidc.test.ts');
await import('../features/second-factor-races.test.ts');
