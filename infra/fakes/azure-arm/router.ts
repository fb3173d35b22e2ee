// The REST paths the SDK clients call (from the operation specs in @azure/arm-resources 6.1,
// @azure/arm-compute 23.3 and @azure/arm-network 35.0: `PUT /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/images/{name}?api-version=…`),
// each named after the SDK's operation group and method (`images.createOrUpdate`): faults and
// the request log use these names. Paths match case-insensitively, as ARM's do.
import { diskKind, snapshotKind } from './disks.js';
import { galleryImageKind, galleryKind, shareGallery, updateGallery } from './galleries.js';
import { galleryImageVersionKind, updateVersion } from './gallery-versions.js';
import { imageKind, updateImage } from './images.js';
import {
  networkInterfaceKind,
  networkSecurityGroupKind,
  publicIPAddressKind,
  virtualNetworkKind,
} from './network.js';
import { getOperationResult, getOperationStatus } from './operations.js';
import { getProvider } from './providers.js';
import { checkGroupExistence, deleteGroup, getGroup, listGroups, putGroup } from './resource-groups.js';
import { deleteResource, getResource, listResources, putResource, type ResourceKind } from './resources.js';
import type { Answer, Call } from './state.js';
import { getInstanceView, restartVm, virtualMachineKind } from './virtual-machines.js';

export interface Route {
  operation: string;
  http: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE' | 'HEAD';
  pattern: RegExp;
  keys: string[];
  handler: (call: Call) => Answer | Promise<Answer>;
}

const SUB = '/subscriptions/:subscriptionId';
const RG = `${SUB}/resourceGroups/:resourceGroupName`;
const COMPUTE = `${RG}/providers/Microsoft.Compute`;
const NETWORK = `${RG}/providers/Microsoft.Network`;

function route(operation: string, http: Route['http'], path: string, handler: Route['handler']): Route {
  const keys: string[] = [];
  const source = path.replace(/:(\w+)/g, (_, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { operation, http, pattern: new RegExp(`^${source}$`, 'i'), keys, handler };
}

/** get, createOrUpdate, delete and list of one resource type, named as its SDK operation group. */
function crud(
  group: string,
  collection: string,
  param: string,
  kind: ResourceKind,
  list = 'listByResourceGroup',
): Route[] {
  const item = `${collection}/:${param}`;
  return [
    route(`${group}.${list}`, 'GET', collection, listResources(kind)),
    route(`${group}.get`, 'GET', item, getResource(kind)),
    route(`${group}.createOrUpdate`, 'PUT', item, putResource(kind)),
    route(`${group}.delete`, 'DELETE', item, deleteResource(kind)),
  ];
}

const GALLERY = `${COMPUTE}/galleries/:galleryName`;
const DEFINITION = `${GALLERY}/images/:galleryImageName`;
const VM = `${COMPUTE}/virtualMachines/:vmName`;

/** Literal paths before parameter ones where both could match (`…/restart` vs an item). */
export const ROUTES: Route[] = [
  route('resourceGroups.list', 'GET', `${SUB}/resourcegroups`, listGroups),
  route('resourceGroups.get', 'GET', `${SUB}/resourcegroups/:resourceGroupName`, getGroup),
  route(
    'resourceGroups.checkExistence',
    'HEAD',
    `${SUB}/resourcegroups/:resourceGroupName`,
    checkGroupExistence,
  ),
  route('resourceGroups.createOrUpdate', 'PUT', `${SUB}/resourcegroups/:resourceGroupName`, putGroup),
  route('resourceGroups.delete', 'DELETE', `${SUB}/resourcegroups/:resourceGroupName`, deleteGroup),
  route('providers.get', 'GET', `${SUB}/providers/:namespace`, getProvider),
  route(
    'operations.get',
    'GET',
    `${SUB}/providers/:namespace/locations/:location/operations/:operationId`,
    getOperationStatus,
  ),
  route(
    'operationResults.get',
    'GET',
    `${SUB}/providers/:namespace/locations/:location/operationResults/:operationId`,
    getOperationResult,
  ),
  route('operationResults.get', 'GET', `${SUB}/operationresults/:operationId`, getOperationResult),
  route('images.update', 'PATCH', `${COMPUTE}/images/:imageName`, updateImage),
  ...crud('images', `${COMPUTE}/images`, 'imageName', imageKind),
  ...crud('disks', `${COMPUTE}/disks`, 'diskName', diskKind),
  ...crud('snapshots', `${COMPUTE}/snapshots`, 'snapshotName', snapshotKind),
  route('gallerySharingProfile.update', 'POST', `${GALLERY}/share`, shareGallery),
  route('galleries.update', 'PATCH', GALLERY, updateGallery),
  ...crud('galleries', `${COMPUTE}/galleries`, 'galleryName', galleryKind),
  ...crud('galleryImages', `${GALLERY}/images`, 'galleryImageName', galleryImageKind, 'listByGallery'),
  route(
    'galleryImageVersions.update',
    'PATCH',
    `${DEFINITION}/versions/:galleryImageVersionName`,
    updateVersion,
  ),
  ...crud(
    'galleryImageVersions',
    `${DEFINITION}/versions`,
    'galleryImageVersionName',
    galleryImageVersionKind,
    'listByGalleryImage',
  ),
  route('virtualMachines.instanceView', 'GET', `${VM}/instanceView`, getInstanceView),
  route('virtualMachines.restart', 'POST', `${VM}/restart`, restartVm),
  ...crud('virtualMachines', `${COMPUTE}/virtualMachines`, 'vmName', virtualMachineKind, 'list'),
  ...crud('virtualNetworks', `${NETWORK}/virtualNetworks`, 'virtualNetworkName', virtualNetworkKind, 'list'),
  ...crud(
    'networkSecurityGroups',
    `${NETWORK}/networkSecurityGroups`,
    'networkSecurityGroupName',
    networkSecurityGroupKind,
    'list',
  ),
  ...crud(
    'publicIPAddresses',
    `${NETWORK}/publicIPAddresses`,
    'publicIpAddressName',
    publicIPAddressKind,
    'list',
  ),
  ...crud(
    'networkInterfaces',
    `${NETWORK}/networkInterfaces`,
    'networkInterfaceName',
    networkInterfaceKind,
    'list',
  ),
];

export const OPERATIONS: ReadonlySet<string> = new Set(ROUTES.map((r) => r.operation));

export const KINDS: ResourceKind[] = [
  imageKind,
  diskKind,
  snapshotKind,
  galleryKind,
  galleryImageKind,
  galleryImageVersionKind,
  virtualMachineKind,
  virtualNetworkKind,
  networkSecurityGroupKind,
  publicIPAddressKind,
  networkInterfaceKind,
];

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export function matchRoute(http: string, pathname: string): Match | undefined {
  for (const candidate of ROUTES) {
    if (candidate.http !== http) continue;
    const found = candidate.pattern.exec(pathname);
    if (!found) continue;
    const params: Record<string, string> = {};
    candidate.keys.forEach((key, i) => (params[key] = decodeURIComponent(found[i + 1]!)));
    return { route: candidate, params };
  }
  return undefined;
}
