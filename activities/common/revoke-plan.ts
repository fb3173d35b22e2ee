import type { CloudName } from '../../schemas/steps.js';
import type { AccountRevoke, RevokePlan } from '../../schemas/revoke.js';
import type { CatalogImage } from './catalog/catalog.js';
import type { CatalogRevocations } from './catalog/revocations.js';
import { ApplicationFailure } from '@temporalio/common';

/** Thrown when a release cannot be revoked; the message says why and what to do instead. */
export function revokeRefused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'RevokeRefused', message, nonRetryable: true });
}

const ref = (i: CatalogImage) => ({ region: i.region, imageId: i.imageId, imageName: i.imageName });

/**
 * What revoking `releaseId` means, from the catalog: its images in every account are withdrawn;
 * the images it replaced become current again, unless a later release has replaced it
 * already (then that release's images stay current and nothing is restored). A release
 * with nothing published (unknown, failed, dry run) or still publishing is refused.
 */
export async function planRevoke(revocations: CatalogRevocations, releaseId: string): Promise<RevokePlan> {
  const images = await revocations.imagesOf(releaseId);
  if (images.length === 0) {
    throw revokeRefused(
      `release ${releaseId} has no images in the catalog: it is unknown, published nothing (failed, cancelled, a dry run) or they were deleted; nothing to revoke`,
    );
  }
  if (images.some((i) => i.state === 'pending')) {
    throw revokeRefused(
      `release ${releaseId} has not published yet (its images are pending): imagecast job cancel ${releaseId} stops it instead`,
    );
  }
  const plan: RevokePlan = {
    releaseId,
    cloud: images[0]!.cloud as CloudName,
    imageName: images[0]!.imageName,
    accounts: [],
  };
  const left = images.filter((i) => !i.revokedAt);
  if (left.length === 0) {
    const first = images[0]!;
    return {
      ...plan,
      alreadyRevoked: { at: first.revokedAt!.toISOString(), by: first.revokedBy, reason: first.revokeReason },
    };
  }
  for (const account of [...new Set(left.map((i) => i.account))]) {
    const mine = left.filter((i) => i.account === account);
    plan.accounts.push(await planAccount(revocations, plan.cloud, account, mine));
  }
  return plan;
}

async function planAccount(
  revocations: CatalogRevocations,
  cloud: string,
  account: string,
  mine: CatalogImage[],
): Promise<AccountRevoke> {
  const supersededBy = mine.find((i) => i.state === 'deprecated')?.replacementImageName;
  const restore = supersededBy
    ? []
    : (await revocations.replacedBy({ cloud, account, imageIds: mine.map((i) => i.imageId) })).map(ref);
  const withdraw = mine.map((i) => {
    // People should use the restored image of the region, or the later release's image.
    const restored = restore.find((r) => r.region === i.region);
    const later =
      i.replacementImageId && i.replacementImageName
        ? { region: i.region, imageId: i.replacementImageId, imageName: i.replacementImageName }
        : undefined;
    const replacement = restored ?? later;
    return { image: ref(i), ...(replacement && { replacement }) };
  });
  return {
    account,
    withdraw,
    restore,
    ...(supersededBy && {
      note: `a later release (${supersededBy}) replaced it already: its images stay current, nothing is restored`,
    }),
  };
}
