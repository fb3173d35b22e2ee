import type { LaunchTestInstanceInput, ReleaseRef, TestInstance } from '../provider.js';
import { arm, armGetOrUndefined } from './arm-errors.js';
import type { AzureClients } from './clients.js';
import { deleted, untilDone, type LroSettings } from './lro.js';
import { releaseTags, TOKEN_TAG } from './tags.js';

/** img-proof's defaults for Azure (mash picks one of several at random; one is enough). */
const DEFAULT_VM_SIZE = { x86_64: 'Standard_D2s_v5', aarch64: 'Standard_D2ps_v6' } as const;
/** The smallest confidential VM size (AMD SEV-SNP): other sizes refuse securityType ConfidentialVM. */
const CONFIDENTIAL_VM_SIZE = 'Standard_DC2as_v5';

/**
 * What a VM from an image whose definition requires a security type must say (a "…Supported"
 * type lets the VM choose: the test VM then takes Azure's default). Trusted Launch and
 * confidential VMs boot with Secure Boot and a vTPM; a confidential VM's OS disk keeps its
 * guest state encrypted.
 */
export function requiredVmSecurity(securityType: string | undefined) {
  if (securityType !== 'TrustedLaunch' && securityType !== 'ConfidentialVM') return undefined;
  return {
    securityProfile: { securityType, uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } },
    ...(securityType === 'ConfidentialVM' && {
      osDiskSecurity: { securityProfile: { securityEncryptionType: 'VMGuestStateOnly' } },
    }),
  };
}
const DEFAULT_SSH_USER = 'azureuser';

/** One resource group per test run, named after the release token and attempt so a retry never reuses a half-deleted one. */
function testGroupName(release: ReleaseRef, attempt: number): string {
  return `imagecast-test-${release.releaseToken.slice(0, 40)}-${attempt}`.replace(/[^-\w.()]/g, '-');
}

const groupOf = (vmId: string) => /\/resourceGroups\/([^/]+)\//i.exec(vmId)?.[1];

/**
 * The test step's VM, as img-proof makes it: a throw-away resource group holding a VNet and
 * subnet, an NSG allowing SSH, a public IP, a NIC and a VM from the new image whose
 * authorized key is the ephemeral one. Everything is in the group, so one delete removes
 * it all (terminate, and the saga's discard by tag).
 */
export async function launchAzureTestInstance(
  c: AzureClients,
  input: LaunchTestInstanceInput & {
    architecture: 'x86_64' | 'aarch64';
    attempt: number;
    /** The SecurityType of the image's definition, when Imagecast knows it asked one. */
    securityType?: string;
  },
  settings: LroSettings & { emulator: boolean },
): Promise<TestInstance> {
  const region = input.image.region;
  const group = testGroupName(input.release, input.attempt);
  const tags = releaseTags(input.release);
  const poll = { updateIntervalInMs: settings.pollMs };
  await arm(`resourceGroups.createOrUpdate ${group}`, () =>
    c.resources.resourceGroups.createOrUpdate(group, { location: region, tags }),
  );
  const nsg = await untilDone(`networkSecurityGroups.createOrUpdate ${group}/allowssh`, () =>
    c.network.networkSecurityGroups.beginCreateOrUpdate(
      group,
      'allowssh',
      {
        location: region,
        tags,
        securityRules: [
          {
            name: 'ssh',
            priority: 100,
            direction: 'Inbound',
            access: 'Allow',
            protocol: 'Tcp',
            sourceAddressPrefix: '*',
            sourcePortRange: '*',
            destinationAddressPrefix: '*',
            destinationPortRange: '22',
          },
        ],
      },
      poll,
    ),
  );
  const vnet = await untilDone(`virtualNetworks.createOrUpdate ${group}/vnet`, () =>
    c.network.virtualNetworks.beginCreateOrUpdate(
      group,
      'vnet',
      {
        location: region,
        tags,
        addressSpace: { addressPrefixes: ['10.0.0.0/16'] },
        subnets: [{ name: 'subnet', addressPrefix: '10.0.0.0/24', networkSecurityGroup: { id: nsg.id } }],
      },
      poll,
    ),
  );
  const ip = await untilDone(`publicIPAddresses.createOrUpdate ${group}/ip`, () =>
    c.network.publicIPAddresses.beginCreateOrUpdate(
      group,
      'ip',
      {
        location: region,
        tags,
        sku: { name: 'Standard' },
        publicIPAllocationMethod: 'Static',
      },
      poll,
    ),
  );
  const nic = await untilDone(`networkInterfaces.createOrUpdate ${group}/nic`, () =>
    c.network.networkInterfaces.beginCreateOrUpdate(
      group,
      'nic',
      {
        location: region,
        tags,
        ipConfigurations: [
          { name: 'ipconfig', subnet: { id: vnet.subnets?.[0]?.id }, publicIPAddress: { id: ip.id } },
        ],
      },
      poll,
    ),
  );
  const user = input.sshUser ?? DEFAULT_SSH_USER;
  const security = requiredVmSecurity(input.securityType);
  const size =
    input.instanceType ??
    (input.securityType === 'ConfidentialVM' ? CONFIDENTIAL_VM_SIZE : DEFAULT_VM_SIZE[input.architecture]);
  const vm = await untilDone(`virtualMachines.createOrUpdate ${group}/vm`, () =>
    c.compute.virtualMachines.beginCreateOrUpdate(
      group,
      'vm',
      {
        location: region,
        tags,
        hardwareProfile: { vmSize: size },
        ...(security && { securityProfile: security.securityProfile }),
        storageProfile: {
          imageReference: { id: input.image.imageId },
          osDisk: {
            createOption: 'FromImage',
            deleteOption: 'Delete',
            ...(security?.osDiskSecurity && { managedDisk: security.osDiskSecurity }),
          },
        },
        osProfile: {
          computerName: 'imagecast-test',
          adminUsername: user,
          linuxConfiguration: {
            disablePasswordAuthentication: true,
            ssh: { publicKeys: [{ path: `/home/${user}/.ssh/authorized_keys`, keyData: input.publicKey }] },
          },
        },
        networkProfile: { networkInterfaces: [{ id: nic.id, primary: true }] },
      },
      poll,
    ),
  );
  const address = await armGetOrUndefined(`publicIPAddresses.get ${group}/ip`, () =>
    c.network.publicIPAddresses.get(group, 'ip'),
  );
  return {
    region,
    instanceId: vm.id!,
    ...(address?.ipAddress && { host: address.ipAddress }),
    port: 22,
    user,
    ...(settings.emulator && {
      unreachable:
        'the Resource Manager endpoint is a fake (IMAGECAST_AZURE_ARM_ENDPOINT): its VMs run no operating system, so there is no SSH to test',
    }),
  };
}

export async function rebootAzureTestInstance(
  c: AzureClients,
  instance: TestInstance,
  lro: LroSettings,
): Promise<void> {
  const group = groupOf(instance.instanceId)!;
  await untilDone(`virtualMachines.restart ${group}/vm`, () =>
    c.compute.virtualMachines.beginRestart(group, 'vm', { updateIntervalInMs: lro.pollMs }),
  );
}

/** Why the VM is not running (deallocated, stopped, gone), or undefined while it runs. */
export async function azureTestInstanceGone(
  c: AzureClients,
  instance: TestInstance,
): Promise<string | undefined> {
  const group = groupOf(instance.instanceId)!;
  const view = await armGetOrUndefined(`virtualMachines.instanceView ${group}/vm`, () =>
    c.compute.virtualMachines.instanceView(group, 'vm'),
  );
  if (!view) return `VM ${instance.instanceId} no longer exists`;
  const power = view.statuses?.find((s) => s.code?.startsWith('PowerState/'));
  if (!power || power.code === 'PowerState/running' || power.code === 'PowerState/starting') return undefined;
  return `VM ${instance.instanceId} is ${power.displayStatus ?? power.code}`;
}

/** Deletes the test run's whole resource group (VM, disk, NIC, IP, NSG, VNet). */
export async function terminateAzureTestInstance(
  c: AzureClients,
  instance: TestInstance,
  lro: LroSettings,
): Promise<void> {
  const group = groupOf(instance.instanceId);
  if (group) await deleteTestGroup(c, group, lro);
}

function deleteTestGroup(c: AzureClients, group: string, lro: LroSettings): Promise<void> {
  return deleted(`resourceGroups.delete ${group}`, () =>
    c.resources.resourceGroups.beginDelete(group, { updateIntervalInMs: lro.pollMs }),
  );
}

/** The saga's net: every test resource group carrying this run's token. */
export async function discardAzureTestGroups(
  c: AzureClients,
  release: ReleaseRef,
  lro: LroSettings,
): Promise<void> {
  const groups: string[] = [];
  const filter = `tagName eq '${TOKEN_TAG}' and tagValue eq '${release.releaseToken.replace(/'/g, "''")}'`;
  for await (const g of c.resources.resourceGroups.list({ filter })) {
    if (g.name?.startsWith('imagecast-test-') && g.tags?.[TOKEN_TAG] === release.releaseToken)
      groups.push(g.name);
  }
  for (const group of groups) await deleteTestGroup(c, group, lro);
}
