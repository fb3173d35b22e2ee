-- The test step's outcome per release: which instance ran which tests, each test's result,
-- output and duration. Kept when a release fails its tests (the saga removes the image, not
-- the evidence of why), so the catalog answers "was this image tested, and how did it do".
CREATE TABLE image_test_runs (
  release_token text NOT NULL,
  release_id    text NOT NULL,
  cloud         text NOT NULL,
  account       text NOT NULL,
  region        text NOT NULL,
  image_id      text NOT NULL,
  instance_id   text NOT NULL,
  passed        boolean NOT NULL,
  -- From the launch request to the first SSH login: the boot time as the tests saw it.
  ssh_after_ms  integer,
  -- [{name, passed, durationMs, output, error?, skipped?}] in the order they ran.
  results       jsonb NOT NULL,
  tested_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (release_token, image_id)
);
CREATE INDEX image_test_runs_release ON image_test_runs (release_id, tested_at);
