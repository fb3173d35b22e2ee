// security_type: the SecurityType feature of the V2 gallery definitions Imagecast creates, and
// a test VM that satisfies it (the ARM fake refuses a VM whose security type does not fit the
// image, as Azure does), through the real SDK clients.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApplicationFailure } from '@temporalio/common';
import { requiredVmSecurity } from '../../../activities/azure/test-instances.js';
import type { CloudProvider, ReleaseRef } from '../../../activities/provider.js';
import type { AzureImageOptions } from '../../../schemas/release-plan.js';
import type { AzureEmulator } from '../../support/azure-emulator.js';
import {
  azureRelease,
  createTestImage,
  galleryOptions,
  startAzureProvider,
  uploadTestDisk,
} from '../../support/azure-provider-calls.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIImagecastUnitTestKeyOnly imagecast';
const release = azureRelease;
const options = (gallery: string, securityType?: string): AzureImageOptions =>
  galleryOptions({
    name: gallery,
    definitions: [{ name: 'sec_gen2', plan: 'gen2', hyperVGeneration: 'V2' }],
    offer: 'sec',
    ...(securityType && { securityType }),
  });

describe('Azure security types', () => {
  it('asks a VM for what the image requires, and nothing for a type it may choose', () => {
    assert.equal(requiredVmSecurity(undefined), undefined);
    assert.equal(requiredVmSecurity('TrustedLaunchSupported'), undefined);
    assert.deepEqual(requiredVmSecurity('TrustedLaunch'), {
      securityProfile: {
        securityType: 'TrustedLaunch',
        uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
      },
    });
    assert.deepEqual(requiredVmSecurity('ConfidentialVM')?.osDiskSecurity, {
      securityProfile: { securityEncryptionType: 'VMGuestStateOnly' },
    });
  });
});

describe('Azure security types (Azurite + ARM fake)', () => {
  let az: AzureEmulator;
  let cloud: CloudProvider;
  before(async () => ({ az, cloud } = await startAzureProvider()));
  after(() => az?.stop());

  const make = async (r: ReleaseRef, name: string, o: AzureImageOptions) =>
    createTestImage(cloud, r, await uploadTestDisk(cloud, r, name, o, { mib: 1, fill: 5 }), name, o, [
      'uefi',
    ]);

  const definition = (gallery: string) =>
    (az.arm.state.galleryImages() as Json[]).find((d) => String(d.id).includes(`/galleries/${gallery}/`))!;

  it('makes a ConfidentialVM definition, and tests on a confidential VM that the fake accepts', async () => {
    const o = options('confgallery', 'ConfidentialVM');
    const r = release('tokconf');
    const image = await make(r, 'conf-v20261206', o);
    assert.deepEqual(definition('confgallery').properties.features, [
      { name: 'SecurityType', value: 'ConfidentialVM' },
    ]);
    const instance = await cloud.launchTestInstance!({ release: r, image, publicKey: KEY, options: o });
    const [vm] = az.arm.state.virtualMachines() as Json[];
    assert.equal(vm!.properties.securityProfile.securityType, 'ConfidentialVM');
    assert.equal(vm!.properties.hardwareProfile.vmSize, 'Standard_DC2as_v5');
    assert.equal(
      vm!.properties.storageProfile.osDisk.managedDisk.securityProfile.securityEncryptionType,
      'VMGuestStateOnly',
    );
    await cloud.terminateTestInstance!(r, instance);

    // The fake holds Azure's rule: the same image in a VM that does not say so is refused.
    const plain = await cloud.launchTestInstance!({
      release: release('tokplain'),
      image,
      publicKey: KEY,
      options: options('confgallery'),
    }).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as Error,
    );
    assert.match(plain.message, /requires security type 'ConfidentialVM'; the VM asks 'Standard'/);
    const small = await cloud.launchTestInstance!({
      release: release('toksmall'),
      image,
      publicKey: KEY,
      instanceType: 'Standard_D2s_v5',
      options: o,
    }).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as Error,
    );
    assert.match(small.message, /VM size 'Standard_D2s_v5' does not support security type 'ConfidentialVM'/);
    await cloud.discardReleaseArtifacts(release('tokplain'), ['westeurope'], o);
    await cloud.discardReleaseArtifacts(release('toksmall'), ['westeurope'], o);
  });

  it('keeps TrustedLaunchSupported by default, and refuses a definition of another security type', async () => {
    const r = release('toktl');
    await make(r, 'tl-v20261206', options('tlgallery'));
    assert.deepEqual(definition('tlgallery').properties.features, [
      { name: 'SecurityType', value: 'TrustedLaunchSupported' },
    ]);
    const refused = await make(release('toktl2'), 'tl-v20261207', options('tlgallery', 'TrustedLaunch')).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ApplicationFailure,
    );
    assert.equal(refused.type, 'CloudInvalidRequest');
    assert.match(
      refused.message,
      /^gallery image definition tlgallery\/sec_gen2 has SecurityType TrustedLaunchSupported but the job asks security_type TrustedLaunch: a definition's features cannot change/,
    );
  });
});
