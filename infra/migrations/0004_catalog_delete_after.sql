-- When a deprecated image is due for deletion, where the cloud records such a date (GCE's
-- deprecation status `deleted`, from the job's months_to_deletion). GCE never deletes by
-- itself: the retirement schedule deletes images past this date.
ALTER TABLE catalog_images ADD COLUMN delete_after timestamptz;
