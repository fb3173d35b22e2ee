// Global images: insert from rawDisk, get, list, delete, getFromFamily.
// https://cloud.google.com/compute/docs/reference/rest/v1/images (resource and methods).
// An image is PENDING from insert until its operation is DONE and imageReadyMs have passed,
// then READY; a failed rawDisk check removes it, so the name can be used again. Left out:
// images from sourceDisk/sourceImage/sourceSnapshot, patch, testIamPermissions, shielded
// instance keys, storageLocations other than the default.
import { alreadyExists, invalidField, notFound, requiredField } from './errors.js';
import { inspectRawDisk, parseRawDiskSource, GiB } from './raw-disk.js';
import { paginate, parseFilter } from './filter.js';
import { startOperation } from './operations.js';
import { checkLabels, checkName, compact, copy, fingerprint, newId, resourcePath, selfLink, timestamp } from './resources.js';
import type { Call, ImageRecord, Json, OperationRecord, Store } from './state.js';

const ARCHITECTURES = ['ARCHITECTURE_UNSPECIFIED', 'X86_64', 'ARM64'];
/** GuestOsFeature.type values listed on the Image resource page. */
const GUEST_OS_FEATURES = [
  'FEATURE_TYPE_UNSPECIFIED', 'VIRTIO_SCSI_MULTIQUEUE', 'WINDOWS', 'MULTI_IP_SUBNET', 'UEFI_COMPATIBLE',
  'SECURE_BOOT', 'GVNIC', 'SEV_CAPABLE', 'BARE_METAL_LINUX_COMPATIBLE', 'SUSPEND_RESUME_COMPATIBLE',
  'SEV_LIVE_MIGRATABLE', 'SEV_SNP_CAPABLE', 'TDX_CAPABLE', 'IDPF', 'SEV_LIVE_MIGRATABLE_V2',
];

const imagePath = (project: string, name: string) => `projects/${project}/global/images/${name}`;

/** The image as a GET answers it now; a PENDING image whose time has come turns READY here. */
export function imageView(record: ImageRecord): Json {
  if (record.resource['status'] === 'PENDING' && record.imported && Date.now() >= record.readyAt) {
    record.resource['status'] = 'READY';
  }
  return copy(record.resource);
}

export function findImage(store: Store, project: string, name: string): ImageRecord {
  const record = store.project(project).images.get(name);
  if (!record) throw notFound(imagePath(project, name));
  return record;
}

/** images.insert: POST projects/{project}/global/images?requestId&forceCreate — https://cloud.google.com/compute/docs/reference/rest/v1/images/insert */
export function insertImage(call: Call): OperationRecord {
  const { store, project, body } = call;
  const name = checkName(body['name']);
  const rawDisk = body['rawDisk'] as Json | undefined;
  if (!rawDisk?.['source']) throw requiredField('resource.rawDisk.source');
  const source = String(rawDisk['source']);
  parseRawDiskSource(source);
  const architecture = body['architecture'] ?? undefined;
  if (architecture !== undefined && !ARCHITECTURES.includes(String(architecture))) {
    throw invalidField('resource.architecture', architecture);
  }
  const features = (body['guestOsFeatures'] ?? []) as Json[];
  for (const feature of features) {
    if (!GUEST_OS_FEATURES.includes(String(feature['type']))) throw invalidField('resource.guestOsFeatures.type', feature['type']);
  }
  const family = body['family'];
  if (family !== undefined) checkName(family, 'resource.family');
  const labels = checkLabels(body['labels']);
  const images = store.project(project).images;
  if (images.has(name)) throw alreadyExists(imagePath(project, name));

  const created = Date.now();
  const record: ImageRecord = {
    imported: false,
    readyAt: created + store.options.imageReadyMs,
    policy: { version: 1, etag: fingerprint([]), bindings: [] },
    resource: compact({
      kind: 'compute#image',
      id: newId(),
      creationTimestamp: timestamp(new Date(created)),
      name,
      description: body['description'],
      sourceType: 'RAW',
      rawDisk: { source, containerType: 'TAR' },
      status: 'PENDING',
      licenses: ((body['licenses'] ?? []) as string[]).map((l) => selfLink(resourcePath(l))),
      family,
      selfLink: selfLink(imagePath(project, name)),
      labels: Object.keys(labels).length > 0 ? labels : undefined,
      labelFingerprint: fingerprint(labels),
      guestOsFeatures: features.map((f) => ({ type: f['type'] })),
      architecture,
      storageLocations: ['us'],
    }),
  };
  images.set(name, record);
  // Started now, as Google starts reading the object at once; the operation ends when both
  // operationMs have passed and the check is over.
  const check = store.options.storageEndpoint
    ? inspectRawDisk(store.options.storageEndpoint, source, store.signal)
    : Promise.resolve({ archiveSizeBytes: 0, diskSizeBytes: 10 * GiB });
  check.catch(() => undefined);
  return startOperation(store, {
    project,
    operationType: 'insert',
    targetLink: selfLink(imagePath(project, name)),
    targetId: String(record.resource['id']),
    complete: async () => {
      try {
        const disk = await check;
        record.resource['archiveSizeBytes'] = String(disk.archiveSizeBytes);
        record.resource['diskSizeGb'] = String(disk.diskSizeBytes / GiB);
        record.imported = true;
      } catch (error) {
        if (images.get(name) === record) images.delete(name);
        throw error;
      }
    },
  });
}

/** images.get: GET projects/{project}/global/images/{image} — https://cloud.google.com/compute/docs/reference/rest/v1/images/get */
export const getImage = (call: Call): Json => imageView(findImage(call.store, call.project, call.params['image']!));

/** images.list: GET projects/{project}/global/images?filter&maxResults&pageToken — https://cloud.google.com/compute/docs/reference/rest/v1/images/list */
export function listImages(call: Call): Json {
  const matches = parseFilter(call.query.get('filter'));
  const all = [...call.store.project(call.project).images.values()].map(imageView).filter(matches);
  const page = paginate(all, call.query.get('maxResults'), call.query.get('pageToken'));
  const id = `projects/${call.project}/global/images`;
  return {
    kind: 'compute#imageList',
    id,
    ...(page.items.length > 0 ? { items: page.items } : {}),
    ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    selfLink: selfLink(id),
  };
}

/** images.delete: DELETE projects/{project}/global/images/{image} — https://cloud.google.com/compute/docs/reference/rest/v1/images/delete */
export function deleteImage(call: Call): OperationRecord {
  const { store, project } = call;
  const record = findImage(store, project, call.params['image']!);
  record.resource['status'] = 'DELETING';
  return startOperation(store, {
    project,
    operationType: 'delete',
    targetLink: String(record.resource['selfLink']),
    targetId: String(record.resource['id']),
    complete: () => {
      const images = store.project(project).images;
      if (images.get(String(record.resource['name'])) === record) images.delete(String(record.resource['name']));
    },
  });
}

const isDeprecated = (image: Json) => {
  const state = (image['deprecated'] as Json | undefined)?.['state'];
  return state !== undefined && state !== 'ACTIVE';
};

/** The newest image of `family` that is not deprecated, or undefined. */
export function newestInFamily(store: Store, project: string, family: string): ImageRecord | undefined {
  return [...store.project(project).images.values()]
    .filter((r) => r.resource['family'] === family && r.resource['status'] !== 'DELETING' && !isDeprecated(r.resource))
    .sort((a, b) => String(b.resource['creationTimestamp']).localeCompare(String(a.resource['creationTimestamp'])))[0];
}

/** images.getFromFamily: GET projects/{project}/global/images/family/{family} — https://cloud.google.com/compute/docs/reference/rest/v1/images/getFromFamily */
export function getFromFamily(call: Call): Json {
  const family = call.params['family']!;
  const record = newestInFamily(call.store, call.project, family);
  if (!record) throw notFound(`projects/${call.project}/global/images/family/${family}`);
  return imageView(record);
}

/**
 * An image named by URL, as instances' disks name their sourceImage: full or partial
 * (`projects/P/global/images/N`, `global/images/N`, `…/images/family/F`).
 */
export function resolveImage(store: Store, project: string, url: string): ImageRecord {
  const path = resourcePath(url);
  const match = /^(?:projects\/([^/]+)\/)?global\/images\/(?:family\/([^/]+)|([^/]+))$/.exec(path);
  if (!match) throw invalidField('resource.disks[0].initializeParams.sourceImage', url, 'Invalid URL.');
  const owner = match[1] ?? project;
  if (match[2]) {
    const newest = newestInFamily(store, owner, match[2]);
    if (!newest) throw notFound(`projects/${owner}/global/images/family/${match[2]}`);
    return newest;
  }
  return findImage(store, owner, match[3]!);
}
