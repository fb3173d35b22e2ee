-- Revoking a release (imagecast release revoke): its images are withdrawn (unshared, deprecated
-- now) and the images it had replaced become current again. The catalog keeps who revoked and
-- why next to each revoked image; the audit log keeps the same as an event.
ALTER TABLE catalog_images ADD COLUMN revoked_at timestamptz;
ALTER TABLE catalog_images ADD COLUMN revoked_by text;
ALTER TABLE catalog_images ADD COLUMN revoke_reason text;
CREATE INDEX catalog_images_release ON catalog_images (release_id);
CREATE INDEX catalog_images_replacement ON catalog_images (cloud, account, replacement_image_id);

-- What a CI token may do: start releases (release:<cloud>:<target>) or revoke them
-- (revoke:<cloud>:<target>). Tokens made before this migration start releases.
ALTER TABLE ci_tokens ADD COLUMN scope_action text NOT NULL DEFAULT 'release'
  CHECK (scope_action IN ('release', 'revoke'));
