// EC2's own preflight against moto behind our shim: a refused DescribeRegions (the credentials
// check) is the one problem, naming the account and the fix, and the name is not looked up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runPreflight } from '../../../activities/common/preflight.js';
import type { PreflightInput } from '../../../activities/provider.js';
import { startAwsEmulator, type AwsEmulator } from '../../support/aws-emulator.js';

describe('ec2 preflight', () => {
  let aws: AwsEmulator;
  before(async () => {
    aws = await startAwsEmulator('ec2-preflight');
  });
  after(() => aws?.stop());

  const input: PreflightInput = {
    release: { releaseId: 'preflight-ec2', releaseToken: 'run-1', cloud: 'ec2', account: 'test-aws' },
    imageName: 'preflight-ec2-v1',
    regions: ['us-east-1'],
    shareWith: 'none',
  };

  it("reports a refused DescribeRegions as the account's credentials, with the fix", async () => {
    aws.shim.inject({
      action: 'DescribeRegions',
      status: 401,
      code: 'AuthFailure',
      message: 'AWS was not able to validate the provided access credentials',
    });
    const lookups = aws.shim.calls('DescribeImages').length;
    const problems = await runPreflight(aws.provider(), input);
    assert.deepEqual(
      problems.map((p) => [p.check, p.account, p.region]),
      [['credentials', 'test-aws', undefined]],
      JSON.stringify(problems),
    );
    assert.match(problems[0]!.message, /^the account's credentials do not work: .*AuthFailure/);
    assert.match(problems[0]!.fix, /imagecast account ec2 show --name test-aws; docs\/ec2\.md/);
    assert.equal(
      aws.shim.calls('DescribeImages').length,
      lookups,
      'no name lookup without working credentials',
    );
  });
});
