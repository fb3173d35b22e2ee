// The GCE provider's pure parts: request ids, labels, IAM bindings, dates, the insert body and
// how Google's refusals are classified.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { labelValue, releaseLabels, stableRequestId } from '../../../activities/gce/labels.js';
import { imageUserMembers, monthsLater, withMembers } from '../../../activities/gce/lifecycle.js';
import { imageInsertBody, rawDiskSource } from '../../../activities/gce/images.js';
import { withoutImageUsers } from '../../../activities/gce/revoke.js';
import { classifyGceError, isNotFound, OperationFailed } from '../../../activities/gce/gce-errors.js';
import type { CreateImageInput, ReleaseRef } from '../../../activities/provider.js';

const release: ReleaseRef = { releaseId: 'Release/SLES-15 sp6', releaseToken: '0f8fad5b-d9cb-469f-a165-70867728950e', cloud: 'gce', account: 'g' };

describe('GCE provider (pure)', () => {
  it('makes request ids that are UUIDs, stable per run and purpose, different otherwise', () => {
    const a = stableRequestId(release, 'image:x');
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(stableRequestId(release, 'image:x'), a);
    assert.notEqual(stableRequestId(release, 'image:y'), a);
    assert.notEqual(stableRequestId({ ...release, releaseToken: 'other' }, 'image:x'), a);
  });

  it('folds label values to what GCE accepts', () => {
    assert.deepEqual(releaseLabels(release), { 'imagecast-release-token': release.releaseToken, 'imagecast-release': 'release-sles-15-sp6' });
    assert.match(labelValue('X'.repeat(100)), /^x{63}$/);
  });

  it('maps share_with to IAM members and adds only missing ones', () => {
    assert.deepEqual(imageUserMembers('all'), ['allAuthenticatedUsers']);
    assert.deepEqual(imageUserMembers('none'), []);
    assert.deepEqual(imageUserMembers(['user:a@example.com']), ['user:a@example.com']);
    const policy = { etag: 'e1', bindings: [{ role: 'roles/owner', members: ['user:o@example.com'] }] };
    const added = withMembers(policy, 'roles/compute.imageUser', ['allAuthenticatedUsers']);
    assert.deepEqual(added, { etag: 'e1', bindings: [...policy.bindings, { role: 'roles/compute.imageUser', members: ['allAuthenticatedUsers'] }] });
    assert.equal(withMembers(added!, 'roles/compute.imageUser', ['allAuthenticatedUsers']), undefined);
  });

  it('a revoke removes every imageUser binding (conditional ones too) and keeps the others', () => {
    const owner = { role: 'roles/owner', members: ['user:o@example.com'] };
    const policy = {
      etag: 'e2',
      version: 3,
      bindings: [
        owner,
        { role: 'roles/compute.imageUser', members: ['allAuthenticatedUsers', 'user:a@example.com'] },
        { role: 'roles/compute.imageUser', members: ['group:g@example.com'], condition: { expression: 'true' } },
      ],
    };
    assert.deepEqual(withoutImageUsers(policy), { etag: 'e2', version: 3, bindings: [owner] });
    assert.equal(withoutImageUsers({ etag: 'e3', bindings: [owner] }), undefined, 'nothing to remove: no write');
  });

  it('counts months to deletion by the calendar, clamping to the month end', () => {
    assert.equal(monthsLater(new Date('2026-08-31T10:00:00Z'), 6).toISOString(), '2027-02-28T10:00:00.000Z');
    assert.equal(monthsLater(new Date('2026-12-03T00:00:00Z'), 0).toISOString(), '2026-12-03T00:00:00.000Z');
  });

  it('builds the images.insert body from the plan', () => {
    const input = {
      release,
      disk: { region: 'global', diskId: 'gs://bkt/img-v1.tar.gz', sizeBytes: 1, bytesWritten: 1, checksum: { algorithm: 'sha256', hex: 'a' } },
      imageName: 'img-v1',
      description: 'd',
      architecture: 'aarch64',
      bootFirmware: ['uefi'],
      options: { cloud: 'gce', bucket: 'bkt', family: 'sles-15', guestOsFeatures: ['GVNIC', 'UEFI_COMPATIBLE'], licenses: ['projects/p/global/licenses/l'], monthsToDeletion: 6, testZone: 'us-east1-b', testFallbackZones: [], forceReplace: false, skipRollout: false },
    } as unknown as CreateImageInput;
    const body = imageInsertBody(input);
    assert.equal(body.architecture, 'ARM64');
    assert.deepEqual(body.rawDisk, { source: 'https://storage.googleapis.com/bkt/img-v1.tar.gz' });
    assert.deepEqual(body.guestOsFeatures, [{ type: 'GVNIC' }, { type: 'UEFI_COMPATIBLE' }]);
    assert.equal(body.family, 'sles-15');
    assert.deepEqual(body.licenses, ['projects/p/global/licenses/l']);
    assert.equal(body.labels?.['imagecast-release-token'], release.releaseToken);
    assert.throws(() => rawDiskSource('s3://x/y'), /not a gs:\/\/ object/);
  });

  it('retries rate limits and server faults; fails fast on quota, permission and invalid requests', () => {
    const http = (status: number, reason: string) =>
      Object.assign(new Error(`HTTP ${status}`), { httpStatusCode: status, code: 3, errors: [{ reason, message: reason }] });
    for (const transient of [http(429, 'rateLimitExceeded'), http(503, 'backendError'), new Error('ECONNRESET')]) {
      assert.ok(!(classifyGceError(transient, 'x') instanceof ApplicationFailure), (transient as Error).message);
    }
    const kinds: Array<[unknown, string]> = [
      [http(403, 'quotaExceeded'), 'CloudQuotaExceeded'],
      [new OperationFailed('QUOTA_EXCEEDED', "Quota 'IMAGES' exceeded", 'op-1'), 'CloudQuotaExceeded'],
      [new OperationFailed('ZONE_RESOURCE_POOL_EXHAUSTED', 'no capacity', 'op-2'), 'CloudQuotaExceeded'],
      [http(403, 'forbidden'), 'CloudPermissionDenied'],
      [http(400, 'invalid'), 'CloudInvalidRequest'],
      [http(409, 'alreadyExists'), 'ImageAlreadyExists'],
    ];
    for (const [error, type] of kinds) {
      const failure = classifyGceError(error, 'images.insert x') as ApplicationFailure;
      assert.ok(failure instanceof ApplicationFailure && failure.nonRetryable, type);
      assert.equal(failure.type, type);
      assert.match(failure.message, /^GCE images\.insert x refused: /);
    }
    assert.ok(isNotFound(http(404, 'notFound')));
    assert.ok(isNotFound(classifyGceError(http(404, 'notFound'), 'x')));
  });
});
