-- The last signed copy of each published list, as it was uploaded: the gateway serves it at
-- /imagelists/<uuid> (no login), and the public catalog finds, by each image's
-- sl:checksum:sha512, the lists that carry an image file. `published_document` is the signed
-- JSON (dates, endorser, hv:uri and images as subscribers read them), not the stored list,
-- which may have changed since.
ALTER TABLE imagelists
  ADD COLUMN published_smime    bytea,
  ADD COLUMN published_document jsonb CHECK (jsonb_typeof(published_document) = 'object');
