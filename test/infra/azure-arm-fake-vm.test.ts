// The ARM fake's network and VMs, driven by @azure/arm-network and @azure/arm-compute. Shapes
// from https://learn.microsoft.com/rest/api/virtualnetwork/ (virtual-networks, network-security-groups,
// public-ip-addresses, network-interfaces) and https://learn.microsoft.com/rest/api/compute/virtual-machines/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArmFake } from '../../infra/fakes/azure-arm/index.js';
import {
  armError,
  armResources,
  FAST,
  firstAnswer,
  propertiesOf,
  SUBSCRIPTION,
  startArmFakeWithClients,
  type ArmClients,
} from '../support/azure-arm-fake.js';

describe('azure arm fake: network and virtual machines', () => {
  let fake: ArmFake;
  let c: ArmClients;
  let arm: ReturnType<typeof armResources>;

  before(async () => ({ fake, c, arm } = await startArmFakeWithClients()));
  after(() => fake.stop());

  test('network, NIC and VM: references are checked, the VM runs, restarts, and goes with its group', async () => {
    const rg = 'rg-vm';
    const { source } = await arm.galleryWithDefinition(rg);
    const net = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Network`;
    const nsg = await c.network.networkSecurityGroups.beginCreateOrUpdateAndWait(
      rg,
      'imagecast-nsg',
      {
        location: 'westeurope',
        securityRules: [
          {
            name: 'ssh',
            protocol: 'Tcp',
            sourcePortRange: '*',
            destinationPortRange: '22',
            sourceAddressPrefix: '*',
            destinationAddressPrefix: '*',
            access: 'Allow',
            priority: 100,
            direction: 'Inbound',
          },
        ],
      },
      FAST,
    );
    assert.equal(nsg.securityRules?.[0]?.id, `${net}/networkSecurityGroups/imagecast-nsg/securityRules/ssh`);
    const vnet = await c.network.virtualNetworks.beginCreateOrUpdateAndWait(
      rg,
      'imagecast-vnet',
      {
        location: 'westeurope',
        addressSpace: { addressPrefixes: ['10.10.0.0/16'] },
        subnets: [{ name: 'default', addressPrefix: '10.10.1.0/24', networkSecurityGroup: { id: nsg.id! } }],
      },
      FAST,
    );
    assert.equal(vnet.provisioningState, 'Succeeded');
    const subnetId = vnet.subnets?.[0]?.id;
    assert.equal(subnetId, `${net}/virtualNetworks/imagecast-vnet/subnets/default`);
    const first = firstAnswer();
    await c.network.publicIPAddresses.beginCreateOrUpdateAndWait(
      rg,
      'imagecast-ip',
      { location: 'westeurope', publicIPAllocationMethod: 'Static', sku: { name: 'Standard' } },
      first.options,
    );
    assert.equal(first.kept.response?.status, 201);
    assert.equal(propertiesOf(first.kept.response)?.['provisioningState'], 'Updating');
    assert.equal(
      propertiesOf(first.kept.response)?.['ipAddress'],
      undefined,
      'no address before it is provisioned',
    );
    const ip = await c.network.publicIPAddresses.get(rg, 'imagecast-ip');
    assert.match(ip.ipAddress ?? '', /^203\.0\.113\.\d+$/);

    const badNic = await armError(
      c.network.networkInterfaces.beginCreateOrUpdateAndWait(
        rg,
        'bad-nic',
        {
          location: 'westeurope',
          ipConfigurations: [
            { name: 'ipconfig1', subnet: { id: `${net}/virtualNetworks/imagecast-vnet/subnets/none` } },
          ],
        },
        FAST,
      ),
    );
    assert.equal(badNic.statusCode, 400);
    assert.equal(badNic.code, 'InvalidResourceReference');
    const nic = await c.network.networkInterfaces.beginCreateOrUpdateAndWait(
      rg,
      'imagecast-nic',
      {
        location: 'westeurope',
        ipConfigurations: [{ name: 'ipconfig1', subnet: { id: subnetId! }, publicIPAddress: { id: ip.id! } }],
      },
      FAST,
    );
    assert.equal(nic.ipConfigurations?.[0]?.privateIPAddress, '10.10.1.4');
    assert.equal(nic.ipConfigurations?.[0]?.publicIPAddress?.id, ip.id);

    await (await arm.publish(rg, '1.0.0', source.id!, ['westeurope'])).pollUntilDone();
    const versionId = `${source.id!.replace(/\/images\/source$/, '')}/galleries/imagecast_gallery/images/sles-15-sp6/versions/1.0.0`;
    const sshKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIImagecastTestKey imagecast@test';
    const vm = (name: string, imageId: string, location = 'westeurope') =>
      c.compute.virtualMachines.beginCreateOrUpdateAndWait(
        rg,
        name,
        {
          location,
          hardwareProfile: { vmSize: 'Standard_B2s' },
          storageProfile: {
            imageReference: { id: imageId },
            osDisk: { createOption: 'FromImage', managedDisk: { storageAccountType: 'Premium_LRS' } },
          },
          osProfile: {
            computerName: name,
            adminUsername: 'azureuser',
            linuxConfiguration: {
              disablePasswordAuthentication: true,
              ssh: { publicKeys: [{ path: '/home/azureuser/.ssh/authorized_keys', keyData: sshKey }] },
            },
          },
          networkProfile: { networkInterfaces: [{ id: nic.id!, primary: true }] },
        },
        FAST,
      );
    const missingImage = await armError(
      vm(
        'no-image',
        `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Compute/images/none`,
      ),
    );
    assert.equal(missingImage.statusCode, 404);
    assert.match(
      missingImage.message,
      /The Image '.*\/images\/none' cannot be found in 'westeurope' region\./,
    );
    const elsewhere = await armError(vm('elsewhere', versionId, 'eastus'));
    assert.equal(elsewhere.code, 'GalleryImageNotFound');
    assert.match(elsewhere.message, /is not available in eastus region/);

    const created = await vm('imagecast-test-vm', versionId);
    assert.equal(created.provisioningState, 'Succeeded');
    assert.match(created.vmId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(created.osProfile?.linuxConfiguration?.ssh?.publicKeys?.[0]?.keyData, sshKey);
    assert.equal(created.storageProfile?.imageReference?.id, versionId);
    const powerState = async () =>
      (await c.compute.virtualMachines.instanceView(rg, 'imagecast-test-vm')).statuses?.find((s) =>
        s.code?.startsWith('PowerState/'),
      )?.code;
    assert.equal(await powerState(), 'PowerState/running');
    const inUse = await armError(vm('second-vm', source.id!));
    assert.equal(inUse.code, 'NicInUse');

    const restart = firstAnswer(() => {
      const view = fake.state.virtualMachines()[0]?.['properties'] as {
        instanceView: { statuses: Array<{ code: string }> };
      };
      return view.instanceView.statuses.find((s) => s.code.startsWith('PowerState/'))?.code;
    });
    await c.compute.virtualMachines.beginRestartAndWait(rg, 'imagecast-test-vm', restart.options);
    assert.equal(restart.kept.response?.status, 202);
    assert.ok(restart.kept.response?.headers.get('location'), 'a POST answers a Location too');
    assert.equal(restart.kept.seen, 'PowerState/starting');
    assert.equal(await powerState(), 'PowerState/running');
    const listed = [];
    for await (const v of c.compute.virtualMachines.list(rg)) listed.push(v.name);
    assert.deepEqual(listed, ['imagecast-test-vm']);

    await c.resources.resourceGroups.beginDeleteAndWait(rg, FAST);
    assert.equal(fake.state.virtualMachines().length, 0);
    assert.equal(fake.state.networkInterfaces().length, 0);
    assert.equal(fake.state.virtualNetworks().length, 0);
    assert.equal(
      fake.state.galleryImageVersions().filter((v) => String(v['id']).includes(`/${rg}/`)).length,
      0,
    );
  });
});
