-- Cloud accounts. Settings (regions, buckets, groups) are plain JSON; the credentials are
-- sealed: AES-256-GCM under a data key of the account's own, which is stored wrapped by a
-- master key (key_id says which, so master keys can rotate by re-wrapping).
CREATE TABLE accounts (
  cloud             text NOT NULL CHECK (cloud IN ('ec2', 'gce', 'azure')),
  name              text NOT NULL,
  account_group     text,
  settings          jsonb NOT NULL,
  secret_ciphertext bytea NOT NULL,
  wrapped_data_key  bytea NOT NULL,
  key_id            text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cloud, name)
);
CREATE INDEX accounts_group ON accounts (cloud, account_group);

-- Scoped, short-lived tokens CI starts releases with. Only a hash of the token is kept.
CREATE TABLE ci_tokens (
  id            text PRIMARY KEY,
  token_sha256  bytea NOT NULL UNIQUE,
  description   text,
  -- release:<cloud>:<account-or-group>
  scope_cloud   text NOT NULL,
  scope_target  text NOT NULL,
  image_prefix  text,
  source_cidr   cidr,
  max_uses      integer CHECK (max_uses IS NULL OR max_uses > 0),
  uses          integer NOT NULL DEFAULT 0,
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text NOT NULL
);

-- Who did what: account changes, key rotations, token creation, every token use (allowed or refused).
CREATE TABLE audit_log (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  action   text NOT NULL,
  subject  text,
  outcome  text NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
  detail   jsonb
);
CREATE INDEX audit_log_subject ON audit_log (subject, at);
