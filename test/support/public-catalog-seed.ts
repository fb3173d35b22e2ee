/**
 * Releases written into a real catalog the way the release workflow writes them (record
 * pending → activate with the release's visibility → deprecate what it replaced), so the
 * public catalog is read from rows exactly like production's.
 */
import type { ImageCatalog } from '../../activities/common/catalog/catalog.js';

export interface SeedRelease {
  cloud: string;
  account: string;
  regions: string[];
  line: string;
  imageName: string;
  /** Image id per region: `${idPrefix}-${region}`. */
  idPrefix: string;
  checksum: string;
  sourceVersion?: string;
  sourceRelease?: string;
  /** What the workflow's publish made of it: public, private, shared. */
  visibility: string;
  /** Leave it pending (the release has not gone out). */
  pending?: boolean;
}

export const seedImageId = (release: SeedRelease, region: string): string => `${release.idPrefix}-${region}`;

/** Records and activates a release; returns its release token. */
export async function seedRelease(catalog: ImageCatalog, release: SeedRelease): Promise<string> {
  const releaseToken = `token-${release.idPrefix}`;
  for (const region of release.regions)
    await catalog.recordImage({
      cloud: release.cloud,
      account: release.account,
      region,
      imageId: seedImageId(release, region),
      imageName: release.imageName,
      imageLine: release.line,
      releaseId: `release-${release.idPrefix}`,
      releaseToken,
      checksum: release.checksum,
      ...(release.sourceVersion && { sourceVersion: release.sourceVersion }),
      ...(release.sourceRelease && { sourceRelease: release.sourceRelease }),
    });
  if (!release.pending) await catalog.activateRelease(releaseToken, release.visibility);
  return releaseToken;
}

/** `newer` replaced `older` in every region they share, as the deprecate step records it. */
export async function seedReplacement(
  catalog: ImageCatalog,
  older: SeedRelease,
  newer: SeedRelease,
): Promise<void> {
  for (const region of older.regions.filter((r) => newer.regions.includes(r)))
    await catalog.markDeprecated({
      cloud: older.cloud,
      account: older.account,
      region,
      imageId: seedImageId(older, region),
      replacementImageId: seedImageId(newer, region),
      replacementImageName: newer.imageName,
    });
}

const sha512 = (seed: string) => `sha512:${seed.repeat(128).slice(0, 128)}`;

/** A small marketplace: two clouds, two architectures, one deprecated image, private and pending ones. */
export const DEMO = {
  slesOld: {
    cloud: 'ec2',
    account: 'suse-public',
    regions: ['us-east-1', 'eu-central-1'],
    line: 'sles-15-sp6-v{date}-hvm-ssd-x86_64',
    imageName: 'sles-15-sp6-v20261101-hvm-ssd-x86_64',
    idPrefix: 'ami-0a11',
    checksum: sha512('a1'),
    sourceVersion: '15.6.0',
    sourceRelease: '3.1',
    visibility: 'public',
  },
  slesNew: {
    cloud: 'ec2',
    account: 'suse-public',
    regions: ['us-east-1', 'eu-central-1'],
    line: 'sles-15-sp6-v{date}-hvm-ssd-x86_64',
    imageName: 'sles-15-sp6-v20261201-hvm-ssd-x86_64',
    idPrefix: 'ami-0b22',
    checksum: sha512('b2'),
    sourceVersion: '15.6.0',
    sourceRelease: '4.2',
    visibility: 'public',
  },
  slesGce: {
    cloud: 'gce',
    account: 'suse-cloud',
    regions: ['global'],
    line: 'sles-15-sp6-v{date}-x86_64',
    imageName: 'sles-15-sp6-v20261201-x86_64',
    idPrefix: 'projects-suse-cloud-images-sles-15-sp6-v20261201',
    checksum: sha512('b2'),
    sourceVersion: '15.6.0',
    sourceRelease: '4.2',
    visibility: 'public',
  },
  leapArm: {
    cloud: 'ec2',
    account: 'opensuse',
    regions: ['us-east-1'],
    line: 'openSUSE-Leap-15.6-v{date}-hvm-ssd-arm64',
    imageName: 'openSUSE-Leap-15.6-v20261203-hvm-ssd-arm64',
    idPrefix: 'ami-0c33',
    checksum: sha512('c3'),
    sourceVersion: '15.6.0',
    sourceRelease: '7.7',
    visibility: 'public',
  },
  internal: {
    cloud: 'ec2',
    account: 'suse-internal',
    regions: ['us-east-1'],
    line: 'sles-internal-v{date}-x86_64',
    imageName: 'sles-internal-v20261202-x86_64',
    idPrefix: 'ami-0d44',
    checksum: sha512('d4'),
    visibility: 'private',
  },
  partner: {
    cloud: 'ec2',
    account: 'suse-partner',
    regions: ['us-east-1'],
    line: 'sles-partner-v{date}-x86_64',
    imageName: 'sles-partner-v20261202-x86_64',
    idPrefix: 'ami-0e55',
    checksum: sha512('e5'),
    visibility: 'shared',
  },
  unreleased: {
    cloud: 'gce',
    account: 'suse-cloud',
    regions: ['global'],
    line: 'sles-16-v{date}-x86_64',
    imageName: 'sles-16-v20261206-x86_64',
    idPrefix: 'projects-suse-cloud-images-sles-16',
    checksum: sha512('f6'),
    visibility: 'public',
    pending: true,
  },
} satisfies Record<string, SeedRelease>;

/** Seeds DEMO: the old SLES image deprecated by the new one, everything else as it stands. */
export async function seedDemoCatalog(catalog: ImageCatalog): Promise<void> {
  for (const release of Object.values(DEMO)) await seedRelease(catalog, release);
  await seedReplacement(catalog, DEMO.slesOld, DEMO.slesNew);
}
