-- Which entry of a stored image list a release wrote (job field image_lists). One entry per
-- image line, cloud and account: a later release of the line updates that entry (same
-- dc:identifier, so subscribers see a new version of the same image), and deprecating the
-- image it describes removes it.
CREATE TABLE imagelist_release_entries (
  list_identifier  uuid NOT NULL REFERENCES imagelists (identifier) ON DELETE CASCADE,
  cloud            text NOT NULL,
  account          text NOT NULL,
  image_line       text NOT NULL,
  -- The entry's dc:identifier in imagelist_images (kept across releases of the line).
  image_identifier uuid NOT NULL,
  -- The release (catalog_images.release_token) whose image the entry describes now.
  release_token    text NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (list_identifier, cloud, account, image_line)
);
CREATE INDEX imagelist_release_entries_release ON imagelist_release_entries (release_token);
