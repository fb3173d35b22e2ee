// Image lists from releases (job field image_lists), as activities on the workflows queue:
// the worker holds the database and the master key that opens the endorsers' keys, so the
// workflow carries only list names, URLs and checksums, never a key. Publishing is exactly
// `imagecast imagelist publish` (publishImageList with the imagelist_publish mappings).
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { ImageListPublishMapping } from '../../../schemas/imagelist-publish.js';
import type { ListEntryFile, ListPublication } from '../../../schemas/imagelist-release.js';
import type { ImageRef, ReleaseRef } from '../../provider.js';
import type { EndorserStore } from './endorser-store.js';
import type { ImageListStore } from './list-store.js';
import { publishImageList, type Published } from './publish-list.js';
import { uploadMapping, type ObjectWritersByCloud } from './publish-target.js';
import { targetsFrom } from './publish-mappings-file.js';
import { ReleaseEntryStore, type ListedFile, type ReleaseEntry } from './release-entries.js';
import { ImageListInputError } from './store-errors.js';
import { LeavingReleaseEntries, republishWithout } from './leaving-entries.js';

export interface ImageListActivityDeps {
  pool: pg.Pool;
  lists: ImageListStore;
  endorsers: EndorserStore;
  /** vmcaster's uriMatch/uriReplace: where a list (and, read backwards, a raw upload) is served. */
  mappings: readonly ImageListPublishMapping[];
  /** Where the mappings were read from, for messages. */
  configOrigin: string;
  /** Writers of s3://, gs:// and azure-blob:// targets (the worker's cloud providers). */
  objectWriters?: ObjectWritersByCloud;
  now?: () => Date;
}

export interface UpdateListsInput {
  release: ReleaseRef;
  lists: string[];
  entry: Omit<ReleaseEntry, 'cloud' | 'account' | 'releaseToken' | 'file'> & { file: ListEntryFile };
}

export function createImageListActivities(deps: ImageListActivityDeps | undefined) {
  const needDeps = (): ImageListActivityDeps => {
    if (deps) return deps;
    throw ApplicationFailure.create({
      type: 'InvalidJob',
      nonRetryable: true,
      message:
        'image_lists: this worker keeps no image lists: start it with IMAGECAST_DATABASE_URL and IMAGECAST_MASTER_KEY (or IMAGECAST_MASTER_KEYS_FILE), the same the imagecast imagelist commands use',
    });
  };
  const entries = () => new ReleaseEntryStore(needDeps().pool);

  const publish = (identifier: string) => publishStoredList(needDeps(), identifier);

  return {
    /**
     * Preflight: every list the job names is stored, and has an upload target. A verdict
     * before anything is uploaded; the message names the field and the list.
     */
    async checkImageLists({ lists }: { lists: string[] }): Promise<string[]> {
      const d = needDeps();
      const { found, problems } = await entries().resolve(lists);
      for (const list of found) {
        try {
          uploadMapping(list.uri, d.mappings, d.configOrigin);
        } catch (error) {
          problems.push(
            `image_lists: list ${JSON.stringify(list.name)} (${list.identifier}): ${(error as Error).message}`,
          );
        }
      }
      if (problems.length > 0) throw refused(problems);
      return found.map((l) => l.identifier);
    },

    /** After publish: the line's entry written into each list, and each list signed and published. */
    async updateReleaseLists({ release, lists, entry }: UpdateListsInput): Promise<ListPublication[]> {
      const d = needDeps();
      const { found, problems } = await entries().resolve(lists);
      if (problems.length > 0) throw refused(problems);
      const file = 'rawUploadUrl' in entry.file ? publicUrlOf(entry.file, d) : entry.file;
      const published: ListPublication[] = [];
      for (const list of found) {
        await entries()
          .write(list.identifier, {
            ...entry,
            cloud: release.cloud,
            account: release.account,
            releaseToken: release.releaseToken,
            file,
          })
          .catch(rethrowRefusal);
        published.push(await publish(list.identifier));
      }
      return published;
    },

    /**
     * Deprecated images leave every list that carries them (whichever job put them there),
     * and those lists are published again; a list left empty is published empty, which is
     * how a list is decommissioned.
     */
    async removeDeprecatedFromLists({
      cloud,
      account,
      images,
    }: {
      cloud: string;
      account: string;
      images: ImageRef[];
    }): Promise<ListPublication[]> {
      // A worker without lists has none to change.
      if (!deps || images.length === 0) return [];
      const releases = await entries().releasesOf(
        cloud,
        account,
        images.map((i) => i.imageId),
      );
      // The image leaves the list before the list is published, the entry is forgotten after:
      // a failed publish is retried with the entry still there to say which list must go out.
      const store = new LeavingReleaseEntries(deps.pool);
      return republishWithout(
        store,
        await store.entriesOf(releases.map((releaseToken) => ({ cloud, account, releaseToken }))),
        'its image was deprecated',
        publish,
      );
    },
  };
}

export type ImageListActivities = ReturnType<typeof createImageListActivities>;

/** Signs and uploads one stored list, as `imagecast imagelist publish ID` does: plain data back, no key. */
export async function publishStoredList(
  d: ImageListActivityDeps,
  identifier: string,
): Promise<ListPublication> {
  const p: Published = await publishImageList({
    lists: d.lists,
    endorsers: d.endorsers,
    identifier,
    // A release (or revoke) republishing a list keeps the lifetime of its last publish, so it
    // does not undo an `imagelist publish --lifetime`.
    keepLastLifetime: true,
    now: (d.now ?? (() => new Date()))(),
    target: targetsFrom(d.mappings, d.configOrigin, d.objectWriters),
  });
  return {
    identifier: p.identifier,
    title: p.title,
    uri: p.uri,
    version: p.version,
    images: p.images,
    expires: p.expires,
  };
}

/** A raw upload's object (s3://, gs://, https://…blob…) as subscribers fetch it: a mapping read backwards. */
function publicUrlOf(
  file: { rawUploadUrl: string; sizeBytes: number; sha512: string },
  d: ImageListActivityDeps,
): ListedFile {
  const mapping = d.mappings
    .filter((m) => file.rawUploadUrl.startsWith(m.uri_replace))
    .sort((a, b) => b.uri_replace.length - a.uri_replace.length)[0];
  const uri = mapping
    ? mapping.uri_match + file.rawUploadUrl.slice(mapping.uri_replace.length)
    : file.rawUploadUrl;
  if (!/^(https?|file):/.test(uri))
    throw refused([
      `image_lists: the raw image upload ${file.rawUploadUrl} is not a URL subscribers can fetch (http, https or file), and no imagelist_publish mapping in ${d.configOrigin} has a uri_replace that begins it; add one, e.g. {"uri_match": "https://images.example.org/", "uri_replace": "${file.rawUploadUrl.replace(/[^/]*$/, '')}"}`,
    ]);
  return { uri, sizeBytes: file.sizeBytes, sha512: file.sha512 };
}

function refused(problems: string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'InvalidJob',
    nonRetryable: true,
    message: problems.join('; '),
    details: [{ problems }],
  });
}

function rethrowRefusal(error: unknown): never {
  if (error instanceof ImageListInputError) throw refused(error.problems);
  throw error;
}
