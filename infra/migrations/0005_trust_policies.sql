-- Keyless CI: which OIDC identities (issuer + audience + claims) may start which releases.
-- Nothing secret here: the issuer's public keys are fetched from its JWKS when a token comes.
CREATE TABLE trust_policies (
  id              text PRIMARY KEY,
  issuer          text NOT NULL,
  audience        text NOT NULL,
  -- Given when the issuer's discovery document should not be used (or has none).
  jwks_url        text,
  -- {"repository": "org/repo", "ref": "refs/heads/*"}: every claim must match (exact or glob).
  claims          jsonb NOT NULL CHECK (jsonb_typeof(claims) = 'object' AND claims <> '{}'::jsonb),
  -- release:<cloud>:<account-or-group>, as for CI tokens.
  scope_cloud     text NOT NULL,
  scope_target    text NOT NULL,
  image_prefix    text,
  -- Longest token lifetime (exp - iat) accepted; NULL: the issuer's own.
  max_ttl_seconds integer CHECK (max_ttl_seconds IS NULL OR max_ttl_seconds > 0),
  description     text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  created_by      text NOT NULL
);
CREATE INDEX trust_policies_issuer ON trust_policies (issuer, audience);
