// A revoke's side of the image lists kept by releases (job field image_lists): the revoked
// release's entries leave every list that carries them, and those lists are signed and
// published again, on the workflows queue like the release's own list activities (the worker
// holds the database and the master key; the workflow carries a release id and gets plain data).
import type { ListPublication } from '../../../schemas/imagelist-release.js';
import { CatalogRevocations } from '../catalog/revocations.js';
import { publishStoredList, type ImageListActivityDeps } from './release-list-activities.js';
import { LeavingReleaseEntries, republishWithout, type ReleaseRun } from './leaving-entries.js';

export function createRevokeListActivities(deps: ImageListActivityDeps | undefined) {
  return {
    /**
     * The revoked release's entries leave every list that carries them (in every account of
     * the release), and each such list is published again; one left with no image is
     * published empty, which decommissions it. Lists where a later release of the line owns
     * the entry are left alone. Safe to repeat: a repeat publishes only a list whose earlier
     * publication failed.
     */
    async removeRevokedFromLists({ releaseId }: { releaseId: string }): Promise<ListPublication[]> {
      // A worker that keeps no lists has none to change.
      if (!deps) return [];
      const images = await new CatalogRevocations(deps.pool).imagesOf(releaseId);
      const runs = new Map<string, ReleaseRun>();
      for (const i of images)
        runs.set(`${i.cloud}\n${i.account}\n${i.releaseToken}`, {
          cloud: i.cloud,
          account: i.account,
          releaseToken: i.releaseToken,
        });
      const store = new LeavingReleaseEntries(deps.pool);
      return republishWithout(
        store,
        await store.entriesOf([...runs.values()]),
        `its release ${releaseId} was revoked`,
        (list) => publishStoredList(deps, list),
      );
    },
  };
}

export type RevokeListActivities = ReturnType<typeof createRevokeListActivities>;
