-- The image catalog: every image Imagecast made, per account and region, and what became of it.
CREATE TABLE catalog_images (
  id                     bigserial PRIMARY KEY,
  cloud                  text NOT NULL,
  account                text NOT NULL,
  region                 text NOT NULL,
  image_id               text NOT NULL,
  image_name             text NOT NULL,
  -- The job's name template: images of one line replace each other.
  image_line             text NOT NULL,
  release_id             text NOT NULL,
  release_token          text NOT NULL,
  checksum               text NOT NULL,
  source_version         text,
  source_release         text,
  state                  text NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'active', 'deprecated', 'deleted')),
  visibility             text,
  replacement_image_id   text,
  replacement_image_name text,
  created_at             timestamptz NOT NULL DEFAULT now(),
  activated_at           timestamptz,
  deprecated_at          timestamptz,
  deleted_at             timestamptz,
  UNIQUE (cloud, account, region, image_id)
);

CREATE INDEX catalog_images_line ON catalog_images (cloud, account, image_line, state);
CREATE INDEX catalog_images_token ON catalog_images (release_token);
