import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteKeyPairCommand,
  DescribeInstancesCommand,
  ImportKeyPairCommand,
  RebootInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import type { LaunchTestInstanceInput, ReleaseRef, TestInstance } from '../provider.js';
import { activityAttempt, activitySignal, heartbeatIfInActivity } from '../common/activity-heartbeat.js';
import { aws, failureAwsCode } from './aws-errors.js';
import { clientToken } from './ebs-snapshot-writer.js';
import type { AwsClients } from './sessions.js';
import { byReleaseToken, cpuOptionsOf, releaseTags } from './tags.js';
import { describeImage, type WaitSettings } from './images.js';

const DEFAULT_INSTANCE_TYPE = 't3.small';
const DEFAULT_SSH_USER = 'ec2-user';
/** An instance that is not running after this long will not be. */
const RUNNING_WITHIN_MS = 10 * 60_000;

/**
 * Launches a test instance of the new AMI: the ephemeral public key imported as a key pair
 * named after the run, the instance and key tagged with the run's token (so the saga finds
 * them if the worker dies mid-test), in the account's subnet when it has one.
 */
export async function launchEc2TestInstance(
  clients: AwsClients,
  input: LaunchTestInstanceInput,
  wait: WaitSettings & { emulator: boolean },
): Promise<TestInstance> {
  const { release, image } = input;
  const keyName = testKeyName(release);
  // A retried launch (the last attempt's terminate failed, or its worker died) first removes
  // the instances the run still has here: one run, at most one test instance.
  await terminateRunInstances(clients, release);
  await aws('ImportKeyPair', () =>
    clients.ec2.send(
      new ImportKeyPairCommand({
        KeyName: keyName,
        PublicKeyMaterial: Buffer.from(input.publicKey),
        TagSpecifications: [{ ResourceType: 'key-pair', Tags: releaseTags(release) }],
      }),
    ),
  ).catch((error: unknown) => {
    // A retried launch finds its key already imported (same run, same name): fine.
    if (failureAwsCode(error) !== 'InvalidKeyPair.Duplicate') throw error;
  });
  // The job's cpu_options travel on the AMI (the test step knows only the AMI).
  const cpuOptions = cpuOptionsOf((await describeImage(clients, image.imageId))?.Tags);
  const { Instances } = await aws('RunInstances', () =>
    clients.ec2.send(
      new RunInstancesCommand({
        ImageId: image.imageId,
        InstanceType: (input.instanceType ?? DEFAULT_INSTANCE_TYPE) as never,
        MinCount: 1,
        MaxCount: 1,
        KeyName: keyName,
        ...(clients.account.subnet && { SubnetId: clients.account.subnet }),
        ...(cpuOptions && { CpuOptions: cpuOptions }),
        // Per attempt: a retry must get a new instance, not the one the last attempt terminated
        // (AWS answers a repeated token with the original instance, whatever its state).
        ClientToken: clientToken(release.releaseToken, image.region, `test-instance-${activityAttempt()}`),
        TagSpecifications: [{ ResourceType: 'instance', Tags: releaseTags(release) }],
      }),
    ),
  );
  const instanceId = Instances![0]!.InstanceId!;
  const running = await waitUntilRunning(clients, instanceId, wait);
  return {
    region: image.region,
    instanceId,
    host: running.PublicIpAddress ?? running.PrivateIpAddress,
    port: 22,
    user: input.sshUser ?? DEFAULT_SSH_USER,
    keyName,
    ...(wait.emulator && {
      unreachable: 'the EC2 endpoint is an emulator (IMAGECAST_AWS_ENDPOINT): its instances run no operating system, so there is no SSH to test',
    }),
  };
}

async function waitUntilRunning(clients: AwsClients, instanceId: string, { pollMs }: WaitSettings): Promise<Instance> {
  const deadline = Date.now() + RUNNING_WITHIN_MS;
  for (;;) {
    const { Reservations } = await aws('DescribeInstances', () =>
      clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
    );
    const instance = Reservations?.[0]?.Instances?.[0];
    const state = instance?.State?.Name;
    if (instance && state === 'running') return instance;
    if (state === 'terminated' || state === 'shutting-down' || Date.now() > deadline) {
      throw new Error(`test instance ${instanceId} is ${state ?? 'gone'}${instance?.StateReason?.Message ? `: ${instance.StateReason.Message}` : ''}`);
    }
    heartbeatIfInActivity({ waitingFor: instanceId, state });
    await sleep(pollMs, undefined, { signal: activitySignal() });
  }
}

/** A test instance that stopped or went away (AWS reclaimed it, it shut itself down): why; undefined while it runs. */
export async function ec2TestInstanceGone(clients: AwsClients, instance: TestInstance): Promise<string | undefined> {
  const described = await aws('DescribeInstances', () =>
    clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance.instanceId] })),
  ).catch((error: unknown) => {
    if (failureAwsCode(error) === 'InvalidInstanceID.NotFound') return undefined;
    throw error;
  });
  const found = described?.Reservations?.[0]?.Instances?.[0];
  if (!found) return `instance ${instance.instanceId} no longer exists`;
  const state = found.State?.Name;
  if (state === 'pending' || state === 'running') return undefined;
  return `instance ${instance.instanceId} is ${state}${found.StateReason?.Message ? ` (${found.StateReason.Message})` : ''}`;
}

export async function rebootEc2TestInstance(clients: AwsClients, instance: TestInstance): Promise<void> {
  await aws('RebootInstances', () => clients.ec2.send(new RebootInstancesCommand({ InstanceIds: [instance.instanceId] })));
}

export async function terminateEc2TestInstance(clients: AwsClients, instance: TestInstance): Promise<void> {
  await aws('TerminateInstances', () =>
    clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.instanceId] })),
  ).catch((error: unknown) => {
    if (failureAwsCode(error) !== 'InvalidInstanceID.NotFound') throw error;
  });
  if (instance.keyName) {
    await aws('DeleteKeyPair', () => clients.ec2.send(new DeleteKeyPairCommand({ KeyName: instance.keyName })));
  }
}

/** The saga's part: every test instance and key pair of the run in this region goes. */
export async function discardEc2TestInstances(clients: AwsClients, release: ReleaseRef): Promise<void> {
  await terminateRunInstances(clients, release);
  // The key's name is the run's: deleting it by name needs no lookup (AWS: deleting a missing key succeeds).
  await aws('DeleteKeyPair', () => clients.ec2.send(new DeleteKeyPairCommand({ KeyName: testKeyName(release) })));
}

/** Terminates every instance tagged with the run's token that is not terminated yet. */
async function terminateRunInstances(clients: AwsClients, release: ReleaseRef): Promise<void> {
  const { Reservations } = await aws('DescribeInstances', () =>
    clients.ec2.send(new DescribeInstancesCommand({ Filters: byReleaseToken(release) })),
  );
  const ids = (Reservations ?? [])
    .flatMap((r) => r.Instances ?? [])
    .filter((i) => i.State?.Name !== 'terminated')
    .map((i) => i.InstanceId!);
  if (ids.length) await aws('TerminateInstances', () => clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })));
}

export function testKeyName(release: ReleaseRef): string {
  return `imagecast-${release.releaseToken}`.slice(0, 255);
}
