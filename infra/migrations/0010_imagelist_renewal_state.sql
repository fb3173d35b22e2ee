-- Renewal state of each published list.
--
-- `published_lifetime_days`: the lifetime (days) the last publication asked for, so renewal
-- keeps the cadence of the last `imagecast imagelist publish --lifetime N` instead of falling
-- back to the stored lifetime. NULL (imported lists, `set lifetime`): renewal uses
-- `lifetime_days`.
ALTER TABLE imagelists ADD COLUMN published_lifetime_days integer CHECK (published_lifetime_days > 0);

-- A list the renewal could not publish again, and why; the row goes when the list is
-- published again (by renewal or by hand). People are told once per list and reason:
-- `notified_reason` is the reason they were last told, so a renewal every 6 hours does not
-- repeat the same message, and workers restarting forget nothing.
CREATE TABLE imagelist_renewal_failures (
  list_identifier uuid PRIMARY KEY REFERENCES imagelists (identifier) ON DELETE CASCADE,
  reason          text NOT NULL,
  -- The first failing run with this reason, and the latest one.
  failing_since   timestamptz NOT NULL,
  last_failed_at  timestamptz NOT NULL,
  notified_reason text,
  notified_at     timestamptz
);
