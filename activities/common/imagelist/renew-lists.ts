// Renewal of the signed image lists Imagecast publishes (workflow renewImageLists, run by a
// Temporal Schedule): each published list is signed and uploaded again once half of its
// lifetime has passed, as `imagecast imagelist publish` does, so subscribers never see it
// expire. These activities run on the workflows queue's workers, which hold the database and
// the master key that opens the endorsers' keys.
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { MasterKeyProvider } from '../../../secrets/envelope.js';
import type { ImageListRenewalNotifier, NotRenewedNotified } from '../notify/imagelist-renewal.js';
import { EndorserStore } from './endorser-store.js';
import { renewalDue } from './list-expiry.js';
import { ImageListStore } from './list-store.js';
import { formatHepixDate } from './hepix-date.js';
import { publishImageList } from './publish-list.js';
import { readPublishMappingsFile, targetsFrom } from './publish-mappings-file.js';
import type { ObjectWritersByCloud } from './publish-target.js';
import { RenewalFailures } from './renewal-failures.js';
import { ImageListNotFoundError } from './store-errors.js';

export interface ImageListRenewalDeps {
  pool: pg.Pool;
  /** Opens the endorsers' keys; throws ImageListRenewalUnavailable when this worker has no master key. */
  masterKeys: () => MasterKeyProvider;
  /** JSON file with the "imagelist_publish" mappings (IMAGECAST_CONFIG, read again at each renewal). */
  publishMappingsFile?: string;
  /** Writers of s3://, gs:// and azure-blob:// targets (the worker's cloud providers). */
  objectWriters?: ObjectWritersByCloud;
  notifier: ImageListRenewalNotifier;
  now?: () => Date;
}

/** A list the run will renew, with what a report about it needs. */
export interface ListToRenew {
  identifier: string;
  title: string;
  uri: string;
  version: string;
  expiresAt: string;
  endorserEmail: string;
}

export type ListRenewal =
  | {
      identifier: string;
      renewed: true;
      previousVersion: string;
      version: string;
      created: string;
      expires: string;
      /** The lifetime asked for: the last publication's (publish --lifetime), else the list's. */
      lifetimeDays?: number;
      target: string;
      notes: string[];
    }
  | { identifier: string; renewed: false; skipped: string };

/** The failure type of a list a retry cannot renew: certificate expired, no upload target, list invalid. */
export const IMAGE_LIST_NOT_RENEWABLE = 'ImageListNotRenewable';

/** This worker lacks what renewal needs (a master key, the publish mappings): names the setting. */
export class ImageListRenewalUnavailable extends Error {
  override name = 'ImageListRenewalUnavailable';
}

/** Errors no retry changes: refused by sign, by the store, by the mapping, or a missing setting. */
const PERMANENT = new Set([
  'ImageListSignRefused',
  'ImageListInputError',
  'ImageListNotFoundError',
  'PublishTargetError',
  'ImageListRenewalUnavailable',
]);

export function createImageListRenewalActivities(deps: ImageListRenewalDeps | undefined) {
  const clock = deps?.now ?? (() => new Date());
  const stores = () => {
    if (!deps)
      throw ApplicationFailure.create({
        type: IMAGE_LIST_NOT_RENEWABLE,
        message: 'this worker was started without the image list stores, so it cannot renew image lists',
        nonRetryable: true,
      });
    const endorsers = new EndorserStore(deps.pool, deps.masterKeys, 'renewal', clock);
    return { deps, endorsers, lists: new ImageListStore(deps.pool, endorsers, 'renewal') };
  };
  return {
    /** The published lists past half their lifetime (and those already expired), oldest expiry first. */
    async findImageListsToRenew(): Promise<ListToRenew[]> {
      const { lists, endorsers } = stores();
      const now = clock();
      const due = (await lists.list()).filter((l) => renewalDue(l, now));
      const emails = new Map((await endorsers.list()).map((e) => [e.dn, e.email]));
      return due
        .sort((a, b) => a.expiresAt!.getTime() - b.expiresAt!.getTime())
        .map((l) => ({
          identifier: l.identifier,
          title: String(l.metadata['dc:title']),
          uri: String(l.metadata['hv:uri']),
          version: l.version,
          expiresAt: formatHepixDate(l.expiresAt!),
          endorserEmail: emails.get(l.endorserDn) ?? '',
        }));
    },

    /**
     * Publishes one list again (version bumped, new dates, signed, uploaded), unless it is no
     * longer due: published by someone else since, or deleted. A refusal no retry can change
     * fails with ImageListNotRenewable; upload trouble is retried by the activity's policy.
     */
    async renewImageList({ identifier }: { identifier: string }): Promise<ListRenewal> {
      try {
        const { deps: d, lists, endorsers } = stores();
        const now = clock();
        let list;
        try {
          list = await lists.get(identifier);
        } catch (error) {
          if (error instanceof ImageListNotFoundError)
            return { identifier, renewed: false, skipped: 'deleted since the run began' };
          throw error;
        }
        if (!renewalDue(list, now))
          return { identifier, renewed: false, skipped: `published again since (version ${list.version})` };
        if (!d.publishMappingsFile)
          throw new ImageListRenewalUnavailable(
            'this worker has no upload targets for image lists: set IMAGECAST_CONFIG to a JSON file with an "imagelist_publish" key (the CLI config file)',
          );
        const file = d.publishMappingsFile;
        const mappings = await readPublishMappingsFile(file);
        const p = await publishImageList({
          lists,
          endorsers,
          identifier,
          keepLastLifetime: true,
          now,
          target: targetsFrom(mappings, file, d.objectWriters),
        });
        return {
          identifier,
          renewed: true,
          previousVersion: p.previousVersion,
          version: p.version,
          created: p.created,
          expires: p.expires,
          lifetimeDays: p.lifetimeDays,
          target: p.target,
          notes: p.notes,
        };
      } catch (error) {
        const e = error as Error;
        if (PERMANENT.has(e.name))
          throw ApplicationFailure.create({
            type: IMAGE_LIST_NOT_RENEWABLE,
            message: e.message,
            nonRetryable: true,
          });
        throw error;
      }
    },

    /**
     * Records why each list was not renewed and tells people about the lists they have not
     * heard of with this reason (once per list and reason, until it is published again):
     * the others are named in alreadyNotified. Marked as told only once the message went out,
     * so a notification that fails for good is tried again by the next run.
     */
    async notifyImageListsNotRenewed(
      input: Parameters<ImageListRenewalNotifier['notifyImageListsNotRenewed']>[0],
    ): Promise<NotRenewedNotified> {
      if (!deps)
        throw new ImageListRenewalUnavailable('this worker was started without the image list stores');
      const failures = new RenewalFailures(deps.pool);
      // One telling at a time: a `imagecast imagelist renew` run beside the schedule's would
      // otherwise find the same lists untold and both send the message.
      return failures.oneTellerAtATime(async () => {
        const untold = new Set(await failures.recordAndFindUntold(input.lists, clock()));
        const alreadyNotified = input.lists.map((l) => l.identifier).filter((id) => !untold.has(id));
        if (untold.size === 0) return { emailed: [], webhooks: [], alreadyNotified };
        const notified = await deps.notifier.notifyImageListsNotRenewed({
          ...input,
          lists: input.lists.filter((l) => untold.has(l.identifier)),
        });
        await failures.markTold([...untold], clock());
        return { ...notified, alreadyNotified };
      });
    },
  };
}

export type ImageListRenewalActivities = ReturnType<typeof createImageListRenewalActivities>;
