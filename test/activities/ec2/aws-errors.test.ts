import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { classifyAwsError } from '../../../activities/ec2/aws-errors.js';
import { bootModeOf } from '../../../activities/ec2/images.js';

/** An error shaped the way the AWS SDK v3 throws service errors. */
function awsError(
  code: string,
  status: number,
  fault: 'client' | 'server' = status >= 500 ? 'server' : 'client',
) {
  return Object.assign(new Error(`${code} happened`), {
    name: code,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });
}

describe('AWS error classification', () => {
  it('keeps throttling, server faults and network errors retryable (the same error object)', () => {
    for (const error of [
      awsError('RequestLimitExceeded', 503),
      awsError('ThrottlingException', 400),
      awsError('InternalError', 500),
      awsError('ServiceUnavailable', 503),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    ]) {
      assert.equal(classifyAwsError(error, 'CopyImage'), error);
    }
  });

  it('fails refused requests at once, with the AWS code and message and what to fix', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['InvalidParameterValue', 'CloudInvalidRequest', /fix the job or account settings/],
      ['UnauthorizedOperation', 'CloudPermissionDenied', /grant the account's role\/user this action/],
      ['AuthFailure', 'CloudPermissionDenied', /check the account's credentials/],
      // EBS direct, STS and EC2 each say "expired" their own way.
      ['ExpiredTokenException', 'CloudPermissionDenied', /temporary credentials expired before the worker renewed them: check the worker's clock/],
      ['ExpiredToken', 'CloudPermissionDenied', /expired before the worker renewed them/],
      ['RequestExpired', 'CloudPermissionDenied', /expired before the worker renewed them/],
      ['ResourceLimitExceeded', 'CloudQuotaExceeded', /raise the quota/],
      ['InvalidAMIName.Duplicate', 'ImageAlreadyExists', /fix the job/],
      ['OptInRequired', 'CloudPermissionDenied', /enable the region/],
    ];
    for (const [code, type, advice] of cases) {
      const failure = classifyAwsError(awsError(code, 400), 'RegisterImage') as ApplicationFailure;
      assert.ok(failure instanceof ApplicationFailure, code);
      assert.equal(failure.type, type, code);
      assert.equal(failure.nonRetryable, true, code);
      assert.match(
        failure.message,
        new RegExp(
          `^EC2 RegisterImage refused: ${code.replace('.', '\\.')}: ${code.replace('.', '\\.')} happened`,
        ),
      );
      assert.match(failure.message, advice, code);
    }
  });
});

describe('boot mode from boot_firmware', () => {
  it('maps mash values to RegisterImage BootMode by the first entry', () => {
    assert.equal(bootModeOf(['uefi-preferred']), 'uefi-preferred');
    assert.equal(bootModeOf(['uefi', 'bios']), 'uefi');
    assert.equal(bootModeOf(['bios', 'uefi']), 'legacy-bios');
    assert.equal(bootModeOf([]), 'legacy-bios');
  });
});
