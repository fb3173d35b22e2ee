import type { ImageRef } from '../activities/provider.js';
import type { CloudName } from './steps.js';
import type { ListPublication } from './imagelist-release.js';

/** What `imagecast release revoke` asks: which release, who, and why (kept in the catalog and the audit log). */
export interface RevokeRequest {
  releaseId: string;
  /** Who revoked: the CLI sends the OS user, the gateway the token (`token:<id> via gateway`). */
  by: string;
  reason?: string;
  /** The release job's notification_email when it asked for notify: they hear of the revoke too. */
  notifyEmails?: string[];
}

/** One revoked image and the image people should use instead in its region, where there is one. */
export interface Withdrawal {
  image: ImageRef;
  replacement?: ImageRef;
}

/** What a revoke does in one account of the release. */
export interface AccountRevoke {
  account: string;
  withdraw: Withdrawal[];
  /** Images the release had replaced, current again once it is revoked. */
  restore: ImageRef[];
  /** Why nothing is restored in this account, when nothing is (a later release replaced this one). */
  note?: string;
}

/** Planned from the catalog before anything changes. */
export interface RevokePlan {
  releaseId: string;
  cloud: CloudName;
  imageName: string;
  accounts: AccountRevoke[];
  /** Set when every image of the release was revoked before: nothing is left to do. */
  alreadyRevoked?: { at: string; by?: string; reason?: string };
}

/** The revokeRelease workflow's result. */
export interface RevokeResult {
  revokeId: string;
  releaseId: string;
  /** A revoke that found the release revoked already: it changed nothing. */
  alreadyRevoked?: RevokePlan['alreadyRevoked'];
  withdrawn: ImageRef[];
  restored: ImageRef[];
  /** Regions a decision (resume --skip) left out: their images were not changed. */
  skippedRegions?: string[];
  /** Image lists that carried the release's entry, published again without it (versions as published). */
  imageLists?: ListPublication[];
}

/**
 * What a revoke's notification says beyond its status: the revoked release, who revoked it
 * and why, what was withdrawn and which images are current again (so far, when it failed
 * or blocked). The notifier tells it as the `release.revoked` event.
 */
export interface RevokeNotice {
  /** The revoked release (the status's `releaseId` is the revoke's own workflow id). */
  releaseId: string;
  revokeId: string;
  by: string;
  reason?: string;
  withdrawn: ImageRef[];
  restored: ImageRef[];
  skippedRegions?: string[];
  /** Image lists published again without the revoked release's entry. */
  imageLists?: ListPublication[];
}
