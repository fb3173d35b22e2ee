import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, releaseMessage } from '../../../../activities/common/notify/release-message.js';
import { failedRelease, succeededRelease } from '../../../support/release-status-fixture.js';

const link = 'http://ui.example/namespaces/default/workflows/release-demo-20250102';

describe('release message', () => {
  it('names the outcome, image and account in the subject', () => {
    assert.equal(
      releaseMessage(succeededRelease()).subject,
      '[imagecast] succeeded: demo-v20250102 (ec2/prod)',
    );
    assert.equal(releaseMessage(failedRelease()).subject, '[imagecast] failed: demo-v20250102 (ec2/prod)');
  });

  it('lists every step with its state, duration and detail, the images per region and the link', () => {
    const { text } = releaseMessage(succeededRelease(), link);
    assert.match(text, /^ {2}step +state +duration +detail$/m);
    assert.match(text, /^ {2}download +succeeded +42s +demo 1\.0\.0-3 from the build service$/m);
    assert.match(text, /^ {2}upload +succeeded +3m 05s +snap-0abc$/m);
    assert.match(text, /^ {2}publish +skipped$/m);
    assert.match(
      text,
      /Images:\n {2}region +image id +name\n {2}us-east-1 +ami-1111 +demo-v20250102\n {2}eu-central-1 +ami-2222/,
    );
    assert.match(text, /Deprecated images:\n.*\n {2}us-east-1 +ami-0000 +demo-v20241201/);
    assert.match(text, new RegExp(`Web UI: ${link}`));
    assert.doesNotMatch(text, /Error:/);
  });

  it('puts the error of a failed release first and on the failed step', () => {
    const { text, html } = releaseMessage(failedRelease());
    assert.match(text, /^Error: +ImageTestFailed: instance i-123 did not boot within 10m$/m);
    assert.match(text, /^ {2}test +failed +10m 01s +ImageTestFailed/m);
    assert.doesNotMatch(text, /Images:|Web UI/);
    assert.match(html, /<td>test<\/td><td>failed<\/td><td>10m 01s<\/td>/);
  });

  it('escapes everything it puts into HTML', () => {
    const evil = succeededRelease({
      imageName: 'demo-<script>alert(1)</script>',
      error: `"quoted" & <b>bold</b> 'single'`,
      releaseId: 'r<1>',
    });
    const { html, text } = releaseMessage(evil, 'http://ui.example/?a=1&b="x"');
    assert.doesNotMatch(html, /<script|<b>|"quoted"|'single'/);
    assert.match(html, /demo-&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;\/b&gt; &#39;single&#39;/);
    assert.match(html, /<a href="http:\/\/ui\.example\/\?a=1&amp;b=&quot;x&quot;">/);
    assert.match(text, /demo-<script>alert\(1\)<\/script>/, 'the text part is plain text and stays as it is');
  });

  it('adds one row per account when the job named several', () => {
    const status = failedRelease({
      accounts: [
        { account: 'us', releaseId: 'r-us', state: 'succeeded', images: succeededRelease().images },
        {
          account: 'eu',
          releaseId: 'r-eu',
          state: 'failed',
          images: [],
          error: 'CloudQuotaExceeded: AMI limit',
        },
      ],
    });
    const { text, json } = releaseMessage(status);
    assert.match(
      text,
      /Accounts:\n {2}account +state +images +error\n {2}us +succeeded +2\n {2}eu +failed +0 +CloudQuotaExceeded/,
    );
    assert.equal(json.accounts.length, 2);
  });

  it('lists every image test with its result, and gives webhooks the same', () => {
    const status = failedRelease({
      testResults: [
        { name: 'test_hostname', passed: true, durationMs: 1200, output: 'imagecast-demo\n' },
        {
          name: 'is-debian',
          passed: false,
          durationMs: 300,
          output: 'ID=sles',
          error: 'output did not match ^ID=debian$',
        },
      ],
    });
    const { text, html, json } = releaseMessage(status);
    assert.match(
      text,
      /Tests:\n {2}test +result +duration +detail\n {2}test_hostname +passed +1s\n {2}is-debian +FAILED +0s +output did not match \^ID=debian\$/,
    );
    assert.match(html, /<td>is-debian<\/td><td>FAILED<\/td>/);
    assert.deepEqual(json.tests, [
      { name: 'test_hostname', passed: true, durationSeconds: 1.2, error: null, skipped: null },
      {
        name: 'is-debian',
        passed: false,
        durationSeconds: 0.3,
        error: 'output did not match ^ID=debian$',
        skipped: null,
      },
    ]);
  });

  it('does not make a link of a non-http Web UI address', () => {
    const { html } = releaseMessage(succeededRelease(), 'javascript:alert(1)');
    assert.doesNotMatch(html, /<a /);
    assert.match(html, /Web UI: javascript:alert\(1\)/);
  });

  it('keeps a newline in the image name out of the subject header', () => {
    const { subject } = releaseMessage(succeededRelease({ imageName: 'demo\r\nBcc: someone@evil.example' }));
    assert.doesNotMatch(subject, /[\r\n]/);
  });

  it('gives webhooks a body with every key present, nulls for what is unknown', () => {
    const { json } = releaseMessage(failedRelease());
    assert.deepEqual(Object.keys(json), [
      'event',
      'releaseId',
      'state',
      'cloud',
      'account',
      'imageName',
      'images',
      'deprecated',
      'error',
      'steps',
      'accounts',
      'tests',
      'webUi',
      'blocked',
      'revoke',
    ]);
    assert.equal(json.blocked, null);
    assert.equal(json.revoke, null);
    assert.deepEqual(json.tests, []);
    assert.equal(json.event, 'release.finished');
    assert.equal(json.webUi, null);
    assert.equal(json.error, 'ImageTestFailed: instance i-123 did not boot within 10m');
    assert.deepEqual(json.steps[3], {
      name: 'test',
      state: 'failed',
      startedAt: '2025-01-02T10:06:00.000Z',
      finishedAt: '2025-01-02T10:16:01.000Z',
      durationSeconds: 601,
      detail: 'ImageTestFailed: instance i-123 did not boot within 10m',
      produced: [],
    });
    assert.deepEqual(json.steps[4], {
      name: 'raw_image_upload',
      state: 'skipped',
      startedAt: null,
      finishedAt: null,
      durationSeconds: null,
      detail: null,
      produced: [],
    });
    assert.equal(releaseMessage(succeededRelease(), link).json.webUi, link);
  });

  it('tells a revoke as release.revoked: the release, who, why, what was withdrawn and what is current again', () => {
    const notice = {
      releaseId: 'release-demo-20250102',
      revokeId: 'revoke-release-demo-20250102',
      by: 'alice',
      reason: 'kernel regression\nBcc: x@evil.example',
      withdrawn: [{ region: 'us-east-1', imageId: 'ami-1111', imageName: 'demo-v20250102' }],
      restored: [{ region: 'us-east-1', imageId: 'ami-0000', imageName: 'demo-v20241201' }],
    };
    const revoke = succeededRelease({
      releaseId: notice.revokeId,
      images: notice.restored,
      deprecated: notice.withdrawn,
    });
    const { subject, text, html, json } = releaseMessage(revoke, link, notice);
    assert.equal(
      subject,
      '[imagecast] revoked: demo-v20250102 (ec2/prod) by alice: kernel regression Bcc: x@evil.example',
    );
    assert.match(
      text,
      /^Release release-demo-20250102 was revoked \(by alice: kernel regression Bcc: x@evil\.example; revoke revoke-release-demo-20250102\)\.$/m,
    );
    assert.match(text, /Withdrawn \(unshared and deprecated\):\n.*\n {2}us-east-1 +ami-1111 +demo-v20250102/);
    assert.match(
      text,
      /Current again \(the images the release had replaced\):\n.*\n {2}us-east-1 +ami-0000 +demo-v20241201/,
    );
    assert.doesNotMatch(text, /^(Images|Deprecated images):/m);
    assert.match(html, /<p>Release release-demo-20250102 was revoked \(by alice/);
    assert.equal(json.event, 'release.revoked');
    assert.equal(json.releaseId, 'release-demo-20250102', 'the body names the revoked release');
    assert.deepEqual(json.revoke, {
      releaseId: 'release-demo-20250102',
      revokeId: 'revoke-release-demo-20250102',
      by: 'alice',
      reason: 'kernel regression\nBcc: x@evil.example',
      withdrawn: notice.withdrawn,
      restored: notice.restored,
      skippedRegions: [],
      imageLists: [],
    });

    // A revoke that failed half-way says so and what it did; one that blocked is release.blocked.
    const failed = releaseMessage(failedRelease({ releaseId: notice.revokeId }), undefined, {
      ...notice,
      reason: undefined,
      restored: [],
    });
    assert.equal(failed.subject, '[imagecast] revoke failed: demo-v20250102 (ec2/prod) by alice');
    assert.match(
      failed.text,
      /^Release release-demo-20250102 was not fully revoked: the revoke failed \(by alice; revoke /m,
    );
    assert.equal(failed.json.event, 'release.revoked');
    assert.equal(failed.json.revoke?.reason, null);
    const blocked = releaseMessage(succeededRelease({ state: 'blocked' }), undefined, notice);
    assert.equal(blocked.json.event, 'release.blocked');
    assert.equal(blocked.json.revoke?.by, 'alice');
    assert.match(blocked.subject, /^\[imagecast\] revoke blocked: /);
  });

  it('says which image lists a revoke published again without the release, in the text and the webhook', () => {
    const list = {
      identifier: '6f1c1d5e-0000-4000-8000-000000000001',
      title: 'Imagecast images',
      uri: 'https://lists.example.org/image.list',
      version: '0.0.4',
      images: 0,
      expires: '2026-01-30T00:00:00Z',
    };
    const notice = {
      releaseId: 'release-demo-20250102',
      revokeId: 'revoke-release-demo-20250102',
      by: 'alice',
      withdrawn: [{ region: 'us-east-1', imageId: 'ami-1111', imageName: 'demo-v20250102' }],
      restored: [],
      imageLists: [list],
    };
    const { text, json } = releaseMessage(
      succeededRelease({ releaseId: notice.revokeId }),
      undefined,
      notice,
    );
    assert.match(
      text,
      /Image lists published again without it:\n.*\n {2}Imagecast images +0\.0\.4 +0 +https:\/\/lists\.example\.org\/image\.list/,
    );
    assert.deepEqual(json.revoke?.imageLists, [list]);
    const none = releaseMessage(succeededRelease(), undefined, { ...notice, imageLists: undefined });
    assert.doesNotMatch(none.text, /Image lists/);
    assert.deepEqual(none.json.revoke?.imageLists, []);
  });

  it('formats durations for people', () => {
    assert.deepEqual([0, 59, 60, 3599, 3600, 7620].map(formatDuration), [
      '0s',
      '59s',
      '1m 00s',
      '59m 59s',
      '1h 00m',
      '2h 07m',
    ]);
    assert.equal(formatDuration(undefined), '');
  });
});
