// The local Compute Engine fake, driven only through the official @google-cloud/compute
// clients as GceSessions builds them. Shapes from https://cloud.google.com/compute/docs/reference/rest/v1/
// (images, instances, firewalls, globalOperations, zoneOperations), requestId from
// https://cloud.google.com/compute/docs/api/how-tos/api-requests-responses#idempotency, errors
// from https://cloud.google.com/compute/docs/reference/rest/v1/errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { protos } from '@google-cloud/compute';
import { PassThroughClient } from 'google-auth-library';
import { accountDirectory } from '../../activities/accounts/account-directory.js';
import { GceSessions, type GceClients } from '../../activities/gce/clients.js';
import { startGceComputeFake, type GceComputeFake } from '../../infra/fakes/gce-compute/index.js';
import { TEST_GCE_KEY } from '../support/gce-key.js';

type Operation = protos.google.cloud.compute.v1.IOperation;

const PROJECT = TEST_GCE_KEY.project_id;
const ZONE = 'us-east1-b';
/** gax's codes (google.rpc.Code): the SDK maps Google's HTTP status to them, keeping the status as httpStatusCode. */
const RPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9 };

function gceSessions(computeEndpoint: string, storageEndpoint?: string): GceSessions {
  const accounts = accountDirectory({
    gce: [{ name: 'gce-test', zone: ZONE, bucket: 'imagecast-images', credentials: TEST_GCE_KEY }],
  });
  return new GceSessions(accounts, { computeEndpoint, storageEndpoint, authClient: new PassThroughClient() });
}

/** Calls `wait` until DONE, as a provider would. */
async function untilDone(c: GceClients, op: Operation): Promise<Operation> {
  let current = op;
  while (current.status !== 'DONE') {
    [current] = current.zone
      ? await c.zoneOperations.wait({ project: c.project, zone: current.zone.split('/').pop()!, operation: current.name! })
      : await c.globalOperations.wait({ project: c.project, operation: current.name! });
  }
  return current;
}

/** What the SDK throws for an HTTP error: a GoogleError with the rpc code and the HTTP status. */
async function sdkError(call: Promise<unknown>): Promise<{ code?: number; httpStatusCode?: number; message: string }> {
  try {
    await call;
  } catch (error) {
    return error as { code?: number; httpStatusCode?: number; message: string };
  }
  assert.fail('the call succeeded');
}

describe('gce compute fake, driven by @google-cloud/compute', () => {
  let fake: GceComputeFake;
  let sessions: GceSessions;
  let c: GceClients;

  before(async () => {
    fake = await startGceComputeFake({ operationMs: 50, imageReadyMs: 300 });
    sessions = gceSessions(fake.endpoint);
    c = await sessions.forAccount('gce-test');
  });
  after(async () => {
    await sessions.close();
    await fake.stop();
  });

  const insertImage = async (name: string, extra: protos.google.cloud.compute.v1.IImage = {}, requestId: string = randomUUID()) => {
    const [op] = await c.images.insert({
      project: PROJECT,
      requestId,
      imageResource: { name, rawDisk: { source: `gs://imagecast-images/${name}.tar.gz` }, ...extra },
    });
    return op.latestResponse as Operation;
  };
  const untilReady = async (name: string) => {
    for (;;) {
      const [image] = await c.images.get({ project: PROJECT, image: name });
      if (image.status === 'READY') return image;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const readyImage = async (name: string, extra: protos.google.cloud.compute.v1.IImage = {}) => {
    await untilDone(c, await insertImage(name, extra));
    return untilReady(name);
  };

  test('images.insert answers an operation; the image is PENDING until imageReadyMs, then READY with the fields given', async () => {
    const op = await insertImage('sles-15-sp6-v20261201', {
      description: 'SUSE Linux Enterprise Server 15 SP6',
      family: 'sles-15',
      architecture: 'X86_64',
      guestOsFeatures: [{ type: 'UEFI_COMPATIBLE' }, { type: 'GVNIC' }],
      licenses: ['projects/suse-cloud/global/licenses/sles-15'],
      labels: { release: 'r1' },
    });
    assert.equal(op.kind, 'compute#operation');
    assert.equal(op.operationType, 'insert');
    assert.equal(op.targetLink, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/images/sles-15-sp6-v20261201`);
    assert.notEqual(op.status, 'DONE');
    const done = await untilDone(c, op);
    assert.equal(done.progress, 100);
    assert.equal(done.error, undefined);

    const [pending] = await c.images.get({ project: PROJECT, image: 'sles-15-sp6-v20261201' });
    assert.equal(pending.status, 'PENDING', 'imageReadyMs (300) is longer than operationMs (50)');
    const image = await untilReady('sles-15-sp6-v20261201');
    assert.equal(image.kind, 'compute#image');
    assert.match(String(image.id), /^\d+$/);
    assert.equal(image.selfLink, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/images/sles-15-sp6-v20261201`);
    assert.ok(!Number.isNaN(Date.parse(image.creationTimestamp!)));
    assert.equal(image.description, 'SUSE Linux Enterprise Server 15 SP6');
    assert.equal(image.family, 'sles-15');
    assert.equal(image.architecture, 'X86_64');
    assert.deepEqual(image.guestOsFeatures?.map((f) => f.type), ['UEFI_COMPATIBLE', 'GVNIC']);
    assert.deepEqual(image.licenses, ['https://www.googleapis.com/compute/v1/projects/suse-cloud/global/licenses/sles-15']);
    assert.deepEqual(image.labels, { release: 'r1' });
    assert.equal(image.rawDisk?.source, 'gs://imagecast-images/sles-15-sp6-v20261201.tar.gz');
    assert.equal(String(image.diskSizeGb), '10');
    assert.equal(image.sourceType, 'RAW');
  });

  test('a name already taken is 409 alreadyExists; an unknown image is 404 notFound, both parsed by the SDK', async () => {
    await insertImage('taken');
    const taken = await sdkError(insertImage('taken'));
    assert.equal(taken.code, RPC.ALREADY_EXISTS);
    assert.equal(taken.httpStatusCode, 409);
    assert.equal(taken.message, `The resource 'projects/${PROJECT}/global/images/taken' already exists`);

    const missing = await sdkError(c.images.get({ project: PROJECT, image: 'no-such-image' }));
    assert.equal(missing.code, RPC.NOT_FOUND);
    assert.equal(missing.httpStatusCode, 404);
    assert.equal(missing.message, `The resource 'projects/${PROJECT}/global/images/no-such-image' was not found`);
  });

  test('the same requestId twice answers the same operation and makes one image; a requestId must be a UUID', async () => {
    const requestId = randomUUID();
    const first = await insertImage('twice', {}, requestId);
    const second = await insertImage('twice', {}, requestId);
    assert.equal(second.name, first.name);
    assert.equal(fake.state.images(PROJECT).filter((i) => i['name'] === 'twice').length, 1);

    const bad = await sdkError(insertImage('not-a-uuid', {}, 'release-42'));
    assert.equal(bad.code, RPC.INVALID_ARGUMENT);
    assert.match(bad.message, /requestId.*valid UUID/);
  });

  test('a dropped response, retried with the same requestId, finds the first operation: one image', async () => {
    fake.faults.add({ method: 'images.insert', kind: 'drop-response' });
    const requestId = randomUUID();
    await assert.rejects(insertImage('dropped', {}, requestId));
    const retried = await untilDone(c, await insertImage('dropped', {}, requestId));
    assert.equal(retried.error, undefined);
    assert.equal(fake.state.images(PROJECT).filter((i) => i['name'] === 'dropped').length, 1);
    const calls = fake.state.requests('images.insert').filter((r) => r.query['requestId'] === requestId);
    assert.deepEqual(calls.map((r) => r.outcome), ['dropped', 200]);
    assert.equal(fake.state.operations(PROJECT).filter((o) => o['targetLink'] === retried.targetLink).length, 1);
  });

  test('list filters by label, name and family, ANDed, and pages with maxResults', async () => {
    await readyImage('list-a', { family: 'list-fam', labels: { batch: 'b1' } });
    await readyImage('list-b', { family: 'list-fam', labels: { batch: 'b1' } });
    await readyImage('list-c', { family: 'other-fam', labels: { batch: 'b1' } });
    const names = async (filter: string, maxResults?: number) => {
      const found: string[] = [];
      for await (const image of c.images.listAsync({ project: PROJECT, filter, maxResults })) found.push(image.name!);
      return found.sort();
    };
    assert.deepEqual(await names('labels.batch = "b1"'), ['list-a', 'list-b', 'list-c']);
    assert.deepEqual(await names('labels.batch = "b1" AND family = "list-fam"'), ['list-a', 'list-b']);
    assert.deepEqual(await names('(family = "list-fam") (name = "list-b")'), ['list-b']);
    assert.deepEqual(await names('name = "list-c" OR name = "list-a"'), ['list-a', 'list-c']);
    assert.deepEqual(await names('labels.batch = "b1"', 1), ['list-a', 'list-b', 'list-c']);
    const paged = fake.state.requests('images.list').filter((r) => r.query['maxResults'] === '1');
    assert.equal(paged.length, 3, 'one page per image');
    assert.ok(paged.slice(1).every((r) => r.query['pageToken']));
  });

  test('deprecate sets the DeprecationStatus, getFromFamily skips deprecated images, ACTIVE clears it', async () => {
    await readyImage('fam-old', { family: 'deprecate-fam' });
    await new Promise((r) => setTimeout(r, 5)); // distinct creationTimestamps
    await readyImage('fam-new', { family: 'deprecate-fam' });
    assert.equal((await c.images.getFromFamily({ project: PROJECT, family: 'deprecate-fam' }))[0].name, 'fam-new');

    const [op] = await c.images.deprecate({
      project: PROJECT,
      image: 'fam-new',
      requestId: randomUUID(),
      deprecationStatusResource: { state: 'DEPRECATED', replacement: 'projects/p/global/images/fam-old', obsolete: '2027-01-01T00:00:00Z' },
    });
    assert.equal((await untilDone(c, op.latestResponse as Operation)).operationType, 'deprecate');
    const [deprecated] = await c.images.get({ project: PROJECT, image: 'fam-new' });
    assert.equal(deprecated.deprecated?.state, 'DEPRECATED');
    assert.equal(deprecated.deprecated?.replacement, 'projects/p/global/images/fam-old');
    assert.equal(deprecated.deprecated?.obsolete, '2027-01-01T00:00:00Z');
    assert.equal((await c.images.getFromFamily({ project: PROJECT, family: 'deprecate-fam' }))[0].name, 'fam-old');

    const [undo] = await c.images.deprecate({ project: PROJECT, image: 'fam-new', deprecationStatusResource: { state: 'ACTIVE' } });
    await untilDone(c, undo.latestResponse as Operation);
    assert.equal((await c.images.get({ project: PROJECT, image: 'fam-new' }))[0].deprecated, undefined);
    const none = await sdkError(c.images.getFromFamily({ project: PROJECT, family: 'no-such-family' }));
    assert.equal(none.httpStatusCode, 404);
  });

  test('setLabels needs the current labelFingerprint', async () => {
    const image = await readyImage('relabel', { labels: { stage: 'test' } });
    const stale = await sdkError(
      c.images.setLabels({ project: PROJECT, resource: 'relabel', globalSetLabelsRequestResource: { labels: { stage: 'x' }, labelFingerprint: 'c3RhbGU=' } }),
    );
    assert.equal(stale.code, RPC.FAILED_PRECONDITION);
    assert.equal(stale.httpStatusCode, 412);
    const [op] = await c.images.setLabels({
      project: PROJECT,
      resource: 'relabel',
      globalSetLabelsRequestResource: { labels: { stage: 'released' }, labelFingerprint: image.labelFingerprint },
    });
    await untilDone(c, op.latestResponse as Operation);
    const [after] = await c.images.get({ project: PROJECT, image: 'relabel' });
    assert.deepEqual(after.labels, { stage: 'released' });
    assert.notEqual(after.labelFingerprint, image.labelFingerprint);
  });

  test('IAM policy round trip: bindings set are bindings got, with a new etag; a stale etag is refused', async () => {
    await readyImage('shared');
    const [empty] = await c.images.getIamPolicy({ project: PROJECT, resource: 'shared' });
    assert.deepEqual(empty.bindings, []);
    const bindings = [{ role: 'roles/compute.imageUser', members: ['allAuthenticatedUsers', 'user:a@example.com'] }];
    const [set] = await c.images.setIamPolicy({
      project: PROJECT,
      resource: 'shared',
      globalSetPolicyRequestResource: { policy: { bindings, etag: empty.etag } },
    });
    assert.notEqual(set.etag, empty.etag);
    const [got] = await c.images.getIamPolicy({ project: PROJECT, resource: 'shared', optionsRequestedPolicyVersion: 3 });
    assert.deepEqual(got.bindings?.map((b) => ({ role: b.role, members: b.members })), bindings);
    assert.equal(got.etag, set.etag);
    const stale = await sdkError(
      c.images.setIamPolicy({ project: PROJECT, resource: 'shared', globalSetPolicyRequestResource: { policy: { bindings: [], etag: empty.etag } } }),
    );
    assert.equal(stale.httpStatusCode, 412);
  });

  test('an instance boots from the image: PROVISIONING, STAGING, RUNNING with natIP 127.0.0.1; list by label, serial output, reset, delete', async () => {
    await readyImage('boot-image');
    const [op] = await c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      requestId: randomUUID(),
      instanceResource: {
        name: 'test-vm',
        machineType: `zones/${ZONE}/machineTypes/n1-standard-1`,
        disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: `projects/${PROJECT}/global/images/boot-image` } }],
        networkInterfaces: [{ accessConfigs: [{ type: 'ONE_TO_ONE_NAT', name: 'External NAT' }] }],
        metadata: { items: [{ key: 'ssh-keys', value: 'imagecast:ssh-ed25519 AAAA test' }] },
        labels: { job: 'j1' },
        tags: { items: ['imagecast-ssh'] },
      },
    });
    const started = op.latestResponse as Operation;
    assert.equal(started.zone, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${ZONE}`);
    const [provisioning] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'test-vm' });
    assert.equal(provisioning.status, 'PROVISIONING');
    await untilDone(c, started);
    const [vm] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'test-vm' });
    assert.equal(vm.status, 'RUNNING');
    assert.equal(vm.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP, '127.0.0.1');
    assert.equal(vm.networkInterfaces?.[0]?.accessConfigs?.[0]?.type, 'ONE_TO_ONE_NAT');
    assert.equal(vm.machineType, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${ZONE}/machineTypes/n1-standard-1`);
    assert.deepEqual(vm.metadata?.items?.map((i) => i.key), ['ssh-keys']);
    assert.deepEqual(vm.tags?.items, ['imagecast-ssh']);
    assert.equal(vm.disks?.[0]?.boot, true);

    const [listed] = await c.instances.list({ project: PROJECT, zone: ZONE, filter: 'labels.job = "j1"' });
    assert.deepEqual(listed.map((i) => i.name), ['test-vm']);
    assert.deepEqual((await c.instances.list({ project: PROJECT, zone: ZONE, filter: 'labels.job = "other"' }))[0], []);
    const [serial] = await c.instances.getSerialPortOutput({ project: PROJECT, zone: ZONE, instance: 'test-vm', port: 1 });
    assert.match(serial.contents!, /test-vm login:/);

    const [reset] = await c.instances.reset({ project: PROJECT, zone: ZONE, instance: 'test-vm', requestId: randomUUID() });
    assert.equal((await untilDone(c, reset.latestResponse as Operation)).operationType, 'reset');
    const [deleted] = await c.instances.delete({ project: PROJECT, zone: ZONE, instance: 'test-vm', requestId: randomUUID() });
    await untilDone(c, deleted.latestResponse as Operation);
    assert.equal((await sdkError(c.instances.get({ project: PROJECT, zone: ZONE, instance: 'test-vm' }))).httpStatusCode, 404);
  });

  test('an operation-error fault in one zone: instances.insert is accepted, zoneOperations.wait shows the error, no instance is left', async () => {
    await readyImage('exhausted-image');
    fake.faults.add({ method: 'instances.insert', zone: ZONE, kind: 'operation-error', code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: `The zone 'projects/${PROJECT}/zones/${ZONE}' does not have enough resources available to fulfill the request.` });
    const [op] = await c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      requestId: randomUUID(),
      instanceResource: {
        name: 'no-room',
        machineType: `zones/${ZONE}/machineTypes/n1-standard-1`,
        disks: [{ initializeParams: { sourceImage: `global/images/exhausted-image` } }],
        networkInterfaces: [{ accessConfigs: [{ type: 'ONE_TO_ONE_NAT' }] }],
      },
    });
    const done = await untilDone(c, op.latestResponse as Operation);
    assert.equal(done.status, 'DONE');
    assert.equal(done.error?.errors?.[0]?.code, 'ZONE_RESOURCE_POOL_EXHAUSTED');
    assert.match(done.error?.errors?.[0]?.message ?? '', /does not have enough resources/);
    assert.equal(done.httpErrorStatusCode, 503);
    assert.equal(done.httpErrorMessage, 'SERVICE UNAVAILABLE');
    assert.equal(done.targetLink, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/no-room`);
    assert.equal((await sdkError(c.instances.get({ project: PROJECT, zone: ZONE, instance: 'no-room' }))).httpStatusCode, 404);
    assert.deepEqual(fake.faults.pending(), []);
  });

  test('an http fault answers in Google\'s error format: 403 quotaExceeded', async () => {
    fake.faults.add({ method: 'images.insert', kind: 'http', status: 403, reason: 'quotaExceeded', message: "Quota 'IMAGES' exceeded. Limit: 2000.0 globally." });
    const quota = await sdkError(insertImage('over-quota'));
    assert.equal(quota.code, RPC.PERMISSION_DENIED);
    assert.equal(quota.httpStatusCode, 403);
    assert.equal(quota.message, "Quota 'IMAGES' exceeded. Limit: 2000.0 globally.");
    assert.equal(fake.state.images(PROJECT).some((i) => i['name'] === 'over-quota'), false);
    assert.throws(() => fake.faults.add({ method: 'images.insertt', kind: 'drop-response' }), /no method "images.insertt"/);
  });

  test('firewalls: insert, get, list, delete', async () => {
    const [op] = await c.firewalls.insert({
      project: PROJECT,
      requestId: randomUUID(),
      firewallResource: { name: 'imagecast-ssh', allowed: [{ IPProtocol: 'tcp', ports: ['22'] }], sourceRanges: ['0.0.0.0/0'], targetTags: ['imagecast-ssh'] },
    });
    await untilDone(c, op.latestResponse as Operation);
    const [rule] = await c.firewalls.get({ project: PROJECT, firewall: 'imagecast-ssh' });
    assert.equal(rule.kind, 'compute#firewall');
    assert.equal(rule.direction, 'INGRESS');
    assert.deepEqual(rule.allowed?.map((a) => [a.IPProtocol, a.ports]), [['tcp', ['22']]]);
    assert.equal(rule.network, `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/default`);
    assert.deepEqual((await c.firewalls.list({ project: PROJECT }))[0].map((f) => f.name), ['imagecast-ssh']);
    const [deleted] = await c.firewalls.delete({ project: PROJECT, firewall: 'imagecast-ssh' });
    await untilDone(c, deleted.latestResponse as Operation);
    assert.deepEqual(fake.state.firewalls(PROJECT), []);
  });

  test('globalOperations.wait blocks about 2 s, then answers the operation as it is, DONE or not', async () => {
    const slow = await startGceComputeFake({ operationMs: 3000 });
    const slowSessions = gceSessions(slow.endpoint);
    try {
      const s = await slowSessions.forAccount('gce-test');
      const [op] = await s.firewalls.insert({ project: PROJECT, firewallResource: { name: 'slow', allowed: [{ IPProtocol: 'tcp' }] } });
      const startedAt = Date.now();
      const [waited] = await s.globalOperations.wait({ project: PROJECT, operation: (op.latestResponse as Operation).name! });
      const blocked = Date.now() - startedAt;
      assert.equal(waited.status, 'RUNNING');
      assert.ok(blocked >= 1900 && blocked < 2900, `blocked ${blocked} ms`);
      assert.equal((await untilDone(s, waited)).status, 'DONE');
    } finally {
      await slowSessions.close();
      await slow.stop();
    }
  });
});
