// The ARM fake's managed disks and snapshots, driven by @azure/arm-compute: what
// https://learn.microsoft.com/azure/virtual-machines/disks-copy-incremental-snapshot-across-regions
// does (a disk imported from a blob, an incremental snapshot of it, CopyStart into another
// region with completionPercent) and a managed image made from the copied snapshot. Shapes from
// https://learn.microsoft.com/rest/api/compute/disks/create-or-update and …/snapshots/create-or-update.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from '@azure/arm-compute';
import type { ArmFake } from '../../infra/fakes/azure-arm/index.js';
import {
  armError,
  armResources,
  BLOB,
  FAST,
  sleep,
  SUBSCRIPTION,
  startArmFakeWithClients,
  type ArmClients,
} from '../support/azure-arm-fake.js';

const RG = 'rg-copy';
const STORAGE = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts/imagecastimages`;

describe('azure arm fake: disks and snapshots', () => {
  let fake: ArmFake;
  let c: ArmClients;

  before(async () => {
    ({ fake, c } = await startArmFakeWithClients());
    await armResources(c).group(RG);
  });
  after(() => fake.stop());

  const importDisk = (name: string, sourceUri = BLOB) =>
    c.compute.disks.beginCreateOrUpdateAndWait(
      RG,
      name,
      {
        location: 'westeurope',
        osType: 'Linux',
        hyperVGeneration: 'V2',
        creationData: { createOption: 'Import', sourceUri, storageAccountId: STORAGE },
      },
      FAST,
    );
  const snapshot = (
    name: string,
    location: string,
    creationData: Snapshot['creationData'],
    incremental = true,
  ) =>
    c.compute.snapshots.beginCreateOrUpdateAndWait(
      RG,
      name,
      { location, incremental, creationData: creationData!, tags: { release: 'r1' } },
      FAST,
    );

  test('a disk from a blob, its incremental snapshot, a CopyStart copy in another region whose completionPercent reaches 100, and an image from it', async () => {
    const disk = await importDisk('home-disk');
    assert.equal(disk.provisioningState, 'Succeeded');
    assert.equal(disk.creationData?.sourceUri, BLOB);
    const home = await snapshot('home-snap', 'westeurope', {
      createOption: 'Copy',
      sourceResourceId: disk.id!,
    });
    assert.deepEqual([home.incremental, home.osType, home.hyperVGeneration], [true, 'Linux', 'V2']);

    const copy = await snapshot('copy-ne', 'northeurope', {
      createOption: 'CopyStart',
      sourceResourceId: home.id!,
    });
    assert.equal(copy.provisioningState, 'Succeeded', 'the PUT ends before the background copy does');
    const seen: number[] = [];
    for (;;) {
      const now = await c.compute.snapshots.get(RG, 'copy-ne');
      seen.push(now.completionPercent!);
      if (now.completionPercent === 100) break;
      await sleep(25);
    }
    assert.ok(seen[0]! < 100 && seen.some((p) => p > 0 && p < 100), `progress rises: ${seen.join(', ')}`);

    const image = await c.compute.images.beginCreateOrUpdateAndWait(
      RG,
      'img-ne',
      {
        location: 'northeurope',
        hyperVGeneration: 'V2',
        storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized', snapshot: { id: copy.id! } } },
      },
      FAST,
    );
    assert.equal(image.provisioningState, 'Succeeded');
    assert.equal(image.storageProfile?.osDisk?.snapshot?.id, copy.id);
    assert.deepEqual(
      fake.state
        .snapshots()
        .map((s) => [s['name'], s['location']])
        .sort(),
      [
        ['copy-ne', 'northeurope'],
        ['home-snap', 'westeurope'],
      ],
    );
    await c.compute.snapshots.beginDeleteAndWait(RG, 'copy-ne', FAST);
    await c.compute.disks.beginDeleteAndWait(RG, 'home-disk', FAST);
    assert.deepEqual(fake.state.disks(), []);
    assert.equal(
      (await c.compute.images.get(RG, 'img-ne')).provisioningState,
      'Succeeded',
      'the image keeps its copy',
    );
  });

  test('refuses a missing blob, a missing source, CopyStart of a full snapshot, and an image from another region or an unfinished copy', async () => {
    const missingBlob = await armError(
      importDisk('no-blob', 'https://imagecastimages.blob.core.windows.net/vhds/none.vhd'),
    );
    assert.deepEqual([missingBlob.statusCode, missingBlob.code], [400, 'InvalidParameter']);
    const disk = await importDisk('refusal-disk');
    const missing = await armError(
      snapshot('orphan', 'westeurope', { createOption: 'Copy', sourceResourceId: `${disk.id!}-gone` }),
    );
    assert.equal(missing.statusCode, 404);
    const full = await snapshot(
      'full',
      'westeurope',
      { createOption: 'Copy', sourceResourceId: disk.id! },
      false,
    );
    const fromFull = await armError(
      snapshot('copy-full', 'northeurope', { createOption: 'CopyStart', sourceResourceId: full.id! }),
    );
    assert.deepEqual([fromFull.statusCode, fromFull.code], [400, 'InvalidParameter']);
    assert.match(fromFull.message, /incremental/);

    const inc = await snapshot('inc', 'westeurope', { createOption: 'Copy', sourceResourceId: disk.id! });
    const image = (name: string, location: string, id: string) =>
      c.compute.images.beginCreateOrUpdateAndWait(
        RG,
        name,
        {
          location,
          storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized', snapshot: { id } } },
        },
        FAST,
      );
    const elsewhere = await armError(image('img-far', 'eastus', inc.id!));
    assert.deepEqual([elsewhere.statusCode, elsewhere.code], [400, 'InvalidParameter']);
    const copying = await snapshot('copy-slow', 'eastus', {
      createOption: 'CopyStart',
      sourceResourceId: inc.id!,
    });
    const early = await armError(image('img-early', 'eastus', copying.id!));
    assert.equal(early.statusCode, 409);
    assert.equal((await armError(image('img-none', 'eastus', `${inc.id!}-gone`))).statusCode, 404);
  });

  test('a replication-failed fault stops the copy into its region with copyCompletionError; other regions copy', async () => {
    const disk = await importDisk('fault-disk');
    const home = await snapshot('fault-home', 'westeurope', {
      createOption: 'Copy',
      sourceResourceId: disk.id!,
    });
    fake.faults.add({
      kind: 'replication-failed',
      operation: 'snapshots.createOrUpdate',
      region: 'eastus',
      message: 'source unreadable',
    });
    const ne = await snapshot('fault-ne', 'northeurope', {
      createOption: 'CopyStart',
      sourceResourceId: home.id!,
    });
    const eu = await snapshot('fault-eu', 'eastus', {
      createOption: 'CopyStart',
      sourceResourceId: home.id!,
    });
    await sleep(300);
    const [okCopy, failedCopy] = await Promise.all([
      c.compute.snapshots.get(RG, ne.name!),
      c.compute.snapshots.get(RG, eu.name!),
    ]);
    assert.equal(okCopy.completionPercent, 100);
    assert.equal(okCopy.copyCompletionError, undefined);
    assert.ok(failedCopy.completionPercent! < 100);
    assert.deepEqual(failedCopy.copyCompletionError, {
      errorCode: 'CopySourceNotFound',
      errorMessage: 'source unreadable',
    });
    assert.deepEqual(fake.faults.pending(), []);
  });
});
