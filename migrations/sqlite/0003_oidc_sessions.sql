-- Back-channel logout names a provider's session by its `sid`: find those sessions without a scan.
CREATE INDEX sessions_oidc_sid ON sessions(oidc_provider, oidc_sid);
