import { setTimeout as sleep } from 'node:timers/promises';
import type { protos } from '@google-cloud/compute';
import { activityAttempt, activitySignal, heartbeatIfInActivity } from '../common/activity-heartbeat.js';
import type { LaunchTestInstanceInput, ReleaseRef, TestInstance } from '../provider.js';
import type { GceClients } from './clients.js';
import { gce, gceProblemOf, isNotFound, isZoneCapacityProblem } from './gce-errors.js';
import { getImage, type WaitSettings } from './images.js';
import { byReleaseToken, gceOptions, labelValue, releaseLabels, stableRequestId } from './labels.js';
import { lastSegment, runOperation } from './operations.js';

type Instance = protos.google.cloud.compute.v1.IInstance;

/** The defaults the issue and img-proof use: a small shared-core machine; Tau T2A for Arm. */
const DEFAULT_MACHINE = { X86_64: 'e2-small', ARM64: 't2a-standard-1' } as const;
const DEFAULT_SSH_USER = 'root';
const RUNNING_WITHIN_MS = 10 * 60_000;

/** Names of the run's test resources: GCE names are `[a-z]([-a-z0-9]{0,61}[a-z0-9])?`. */
const runKey = (release: ReleaseRef) => labelValue(release.releaseToken).replace(/[^a-z0-9]/g, '').slice(0, 32);
export const firewallName = (release: ReleaseRef) => `imagecast-ssh-${runKey(release)}`;
export const networkTag = (release: ReleaseRef) => `imagecast-test-${runKey(release)}`;

/**
 * Launches the test instance: in the testing account's project, from the image in the
 * image project, in the job's zone or — when a zone has no capacity — the next of
 * test_fallback_regions (as mash). The ephemeral key goes into `ssh-keys` metadata; a
 * firewall rule allowing SSH only to instances tagged for this run is made first. Both carry
 * the run's labels/name, so the saga finds them if this worker dies.
 */
export async function launchGceTestInstance(
  c: GceClients,
  releaseProject: string,
  input: LaunchTestInstanceInput,
  wait: WaitSettings & { emulator: boolean },
): Promise<TestInstance> {
  const { release, image } = input;
  const options = gceOptions(input);
  const imageProject = options.imageProject ?? releaseProject;
  await discardGceTestInstances(c, release, [options.testZone, ...options.testFallbackZones], { keepFirewall: true });
  await ensureSshFirewall(c, release);
  const architecture = (await getImage({ ...c, project: imageProject }, image.imageName))?.architecture;
  const machine = input.instanceType ?? (architecture === 'ARM64' ? DEFAULT_MACHINE.ARM64 : DEFAULT_MACHINE.X86_64);
  const user = input.sshUser ?? DEFAULT_SSH_USER;
  const zones = [options.testZone, ...options.testFallbackZones];
  const refusals: string[] = [];
  for (const [i, zone] of zones.entries()) {
    // Per attempt and zone: a retry must get a new instance, not the one the last attempt deleted.
    const name = `imagecast-t-${runKey(release)}-a${activityAttempt()}z${i}`;
    try {
      await runOperation(c, `instances.insert ${name} in ${zone}`, () =>
        c.instances.insert({
          project: c.project,
          zone,
          requestId: stableRequestId(release, `instance:${name}:${zone}`),
          instanceResource: instanceBody(name, zone, machine, `projects/${imageProject}/global/images/${image.imageName}`, `${user}:${input.publicKey.trim()} ${user}`, release),
        }),
      );
    } catch (error) {
      if (!isZoneCapacityProblem(gceProblemOf(error) ?? problemInDetails(error)) || i === zones.length - 1) {
        if (refusals.length) (error as Error).message += ` (also tried: ${refusals.join('; ')})`;
        throw error;
      }
      refusals.push(`${zone}: ${(error as Error).message}`);
      heartbeatIfInActivity({ zoneWithoutCapacity: zone });
      continue;
    }
    const running = await waitUntilRunning(c, zone, name, wait);
    const host = running.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP ?? running.networkInterfaces?.[0]?.networkIP ?? undefined;
    return {
      region: zone,
      ...(options.testingAccount && { account: options.testingAccount }),
      instanceId: name,
      ...(host && { host }),
      port: 22,
      user,
      ...(wait.emulator && {
        unreachable: 'the Compute Engine endpoint is a fake (IMAGECAST_GCE_COMPUTE_ENDPOINT): its instances run no operating system, so there is no SSH to test',
      }),
    };
  }
  throw new Error('unreachable: no zone to test in');
}

/** The classified failure's code (after `gce()`), as a problem. */
function problemInDetails(error: unknown) {
  const code = (error as { details?: Array<{ code?: unknown }> }).details?.[0]?.code;
  return typeof code === 'string' ? { status: 0, code, message: '' } : undefined;
}

/** https://cloud.google.com/compute/docs/reference/rest/v1/instances/insert */
export function instanceBody(name: string, zone: string, machine: string, sourceImage: string, sshKey: string, release: ReleaseRef): Instance {
  return {
    name,
    machineType: `zones/${zone}/machineTypes/${machine}`,
    disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage } }],
    networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ type: 'ONE_TO_ONE_NAT', name: 'External NAT' }] }],
    metadata: { items: [{ key: 'ssh-keys', value: sshKey }] },
    tags: { items: [networkTag(release)] },
    labels: releaseLabels(release),
  };
}

/** SSH allowed from anywhere, but only to this run's tagged instances. */
async function ensureSshFirewall(c: GceClients, release: ReleaseRef): Promise<void> {
  const name = firewallName(release);
  try {
    await c.firewalls.get({ project: c.project, firewall: name });
    return;
  } catch (error) {
    if (!isNotFound(error)) throw await gce(`firewalls.get ${name}`, () => Promise.reject(error)).catch((e: unknown) => e);
  }
  await runOperation(c, `firewalls.insert ${name}`, () =>
    c.firewalls.insert({
      project: c.project,
      requestId: stableRequestId(release, `firewall:${name}`),
      firewallResource: {
        name,
        description: `SSH to the test instance of release ${release.releaseId}`,
        network: 'global/networks/default',
        direction: 'INGRESS',
        allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
        sourceRanges: ['0.0.0.0/0'],
        targetTags: [networkTag(release)],
      },
    }),
  );
}

async function getInstance(c: GceClients, zone: string, name: string): Promise<Instance | undefined> {
  try {
    const [instance] = await c.instances.get({ project: c.project, zone, instance: name });
    return instance;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    return gce(`instances.get ${name}`, () => Promise.reject(error));
  }
}

async function waitUntilRunning(c: GceClients, zone: string, name: string, { pollMs }: WaitSettings): Promise<Instance> {
  const deadline = Date.now() + RUNNING_WITHIN_MS;
  for (;;) {
    const instance = await getInstance(c, zone, name);
    const status = instance?.status;
    if (instance && status === 'RUNNING') return instance;
    if (!instance || status === 'TERMINATED' || status === 'STOPPING' || Date.now() > deadline) {
      throw new Error(`test instance ${name} in ${zone} is ${status ?? 'gone'}${instance?.statusMessage ? `: ${instance.statusMessage}` : ''}`);
    }
    heartbeatIfInActivity({ waitingFor: name, status });
    await sleep(pollMs, undefined, { signal: activitySignal() });
  }
}

export async function gceTestInstanceGone(c: GceClients, instance: TestInstance): Promise<string | undefined> {
  const found = await getInstance(c, instance.region, instance.instanceId);
  if (!found) return `instance ${instance.instanceId} no longer exists`;
  if (found.status === 'RUNNING' || found.status === 'PROVISIONING' || found.status === 'STAGING') return undefined;
  return `instance ${instance.instanceId} is ${found.status}${found.statusMessage ? ` (${found.statusMessage})` : ''}`;
}

/** instances.reset: GCE's hard reset, what test_hard_reboot means. */
export async function rebootGceTestInstance(c: GceClients, instance: TestInstance): Promise<void> {
  await runOperation(c, `instances.reset ${instance.instanceId}`, () =>
    c.instances.reset({ project: c.project, zone: instance.region, instance: instance.instanceId }),
  );
}

export async function terminateGceTestInstance(c: GceClients, release: ReleaseRef, instance: TestInstance): Promise<void> {
  await deleteInstance(c, instance.region, instance.instanceId);
  await deleteFirewall(c, release);
}

async function deleteInstance(c: GceClients, zone: string, name: string): Promise<void> {
  await runOperation(c, `instances.delete ${name}`, () => c.instances.delete({ project: c.project, zone, instance: name })).catch(
    (error: unknown) => {
      if (!isNotFound(error)) throw error;
    },
  );
}

async function deleteFirewall(c: GceClients, release: ReleaseRef): Promise<void> {
  const firewall = firewallName(release);
  await runOperation(c, `firewalls.delete ${firewall}`, () => c.firewalls.delete({ project: c.project, firewall })).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
}

/** The saga's part (and a retried launch's first step): the run's instances in these zones, and its firewall rule. */
export async function discardGceTestInstances(
  c: GceClients,
  release: ReleaseRef,
  zones: string[],
  { keepFirewall = false } = {},
): Promise<void> {
  for (const zone of new Set(zones)) {
    const [instances] = await gce(`instances.list in ${zone}`, () =>
      c.instances.list({ project: c.project, zone, filter: byReleaseToken(release) }),
    );
    await Promise.all(instances.map((i) => deleteInstance(c, lastSegment(i.zone ?? zone), i.name!)));
  }
  if (!keepFirewall) await deleteFirewall(c, release);
}
