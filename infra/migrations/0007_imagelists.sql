-- Signed HEPiX image lists that Imagecast publishes (vmcaster's state, in PostgreSQL).
--
-- Endorsers: the certificate and its private key are sealed together exactly as account
-- credentials are (AES-256-GCM under a data key of the endorser's own, wrapped by a master
-- key). The names and expiry are copies of what the certificate says, kept plain so lists
-- can be shown and capped without opening the secret.
CREATE TABLE imagelist_endorsers (
  dn                text PRIMARY KEY,
  ca                text NOT NULL,
  email             text NOT NULL,
  creator           text NOT NULL,
  not_after         timestamptz NOT NULL,
  secret_ciphertext bytea NOT NULL,
  wrapped_data_key  bytea NOT NULL,
  key_id            text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per list. `metadata` holds the list's own HEPiX keys (dc:title, dc:description,
-- dc:source, hv:uri, ad:vo, ad:mpuri, ad:group, …) as they are written in the list; the keys
-- Imagecast computes at each publication (dates, endorser, images) are not in it.
CREATE TABLE imagelists (
  identifier     uuid PRIMARY KEY,
  endorser_dn    text NOT NULL REFERENCES imagelist_endorsers (dn) ON DELETE RESTRICT,
  version        text NOT NULL CHECK (version <> ''),
  lifetime_days  integer NOT NULL DEFAULT 28 CHECK (lifetime_days > 0),
  metadata       jsonb NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
  -- dc:date:created and dc:date:expires of the last publication (or of the imported list);
  -- NULL until then.
  published_at   timestamptz,
  expires_at     timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The images of a list, in the order they were added; `metadata` is the hv:image object.
CREATE TABLE imagelist_images (
  list_identifier uuid NOT NULL REFERENCES imagelists (identifier) ON DELETE CASCADE,
  identifier      uuid NOT NULL,
  position        bigserial,
  metadata        jsonb NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (list_identifier, identifier)
);
CREATE INDEX imagelist_images_order ON imagelist_images (list_identifier, position);
