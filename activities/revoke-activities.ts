import type { CloudProvider, ImageRef, ReleaseRef } from './provider.js';
import type { CloudImageOptions } from '../schemas/release-plan.js';
import type { RevokePlan } from '../schemas/revoke.js';
import type { ImageCatalog } from './common/catalog/catalog.js';
import { CatalogRevocations } from './common/catalog/revocations.js';
import { planRevoke } from './common/revoke-plan.js';
import { AuditLog, type AuditOutcome } from './accounts/audit-log.js';

/** The provider methods a revoke needs; a cloud lacking one is refused before anything changes. */
const REVOKE_METHODS = ['withdrawImage', 'restoreImage'] as const;

export interface WithdrawActivityInput {
  release: ReleaseRef;
  image: ImageRef;
  replacement?: ImageRef;
  by: string;
  reason?: string;
  options?: CloudImageOptions;
}

/**
 * Revoke's activities on a cloud queue: the cloud call, then the catalog, so a retry after a
 * crash repeats both (each idempotent).
 */
export function createRevokeCloudActivities({
  provider,
  catalog,
}: {
  provider: CloudProvider;
  catalog: ImageCatalog;
}) {
  const revocations = new CatalogRevocations(catalog.pool);
  return {
    /** The provider methods this cloud lacks for a revoke (none: it can revoke). */
    async missingRevokeMethods(): Promise<string[]> {
      return REVOKE_METHODS.filter((m) => typeof provider[m] !== 'function');
    },

    /** Unshares the image and deprecates it now; the catalog records it revoked, by whom and why. */
    async withdrawImage(input: WithdrawActivityInput): Promise<void> {
      const { by, reason, ...withdraw } = input;
      await provider.withdrawImage!(withdraw);
      await revocations.markRevoked({
        cloud: input.release.cloud,
        account: input.release.account,
        region: input.image.region,
        imageId: input.image.imageId,
        by,
        ...(reason && { reason }),
        ...(input.replacement && { replacement: input.replacement }),
      });
    },

    /** Makes an image the revoked release had replaced current again, in the cloud and the catalog. */
    async restoreImage(input: {
      release: ReleaseRef;
      image: ImageRef;
      options?: CloudImageOptions;
    }): Promise<void> {
      await provider.restoreImage!(input);
      await revocations.markRestored({
        cloud: input.release.cloud,
        account: input.release.account,
        region: input.image.region,
        imageId: input.image.imageId,
      });
    },
  };
}

/** Revoke's activities on the workflows queue: the plan (from the catalog) and the audit record. */
export function createRevokeActivities({ catalog }: { catalog: ImageCatalog }) {
  const revocations = new CatalogRevocations(catalog.pool);
  const audit = new AuditLog(catalog.pool);
  return {
    async planRevoke({ releaseId }: { releaseId: string }): Promise<RevokePlan> {
      return planRevoke(revocations, releaseId);
    },

    /** Who revoked which release, why, and how it ended, in the audit log (as decisions are). */
    async recordRevoke(input: {
      releaseId: string;
      by: string;
      outcome: AuditOutcome;
      detail: Record<string, unknown>;
    }): Promise<void> {
      await audit.record(
        input.by,
        'release.revoke',
        `release:${input.releaseId}`,
        input.outcome,
        input.detail,
      );
    },
  };
}

export type RevokeCloudActivities = ReturnType<typeof createRevokeCloudActivities>;
export type RevokeActivities = ReturnType<typeof createRevokeActivities>;
