// The signed-image-list set-up the release and revoke workflow tests share: the worker's
// image-list dependencies, and an endorser and lists registered as an operator would (actor
// "test"), so the worker finds them in PostgreSQL like any stored list.
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { EndorserStore } from '../../activities/common/imagelist/endorser-store.js';
import { ImageListStore } from '../../activities/common/imagelist/list-store.js';
import type { ImageListActivityDeps } from '../../activities/common/imagelist/release-list-activities.js';
import type { ImageListPublishMapping } from '../../schemas/imagelist-publish.js';
import { keyRingMasterKeys } from '../../secrets/envelope.js';
import { singleKeyRing } from '../../secrets/key-ring.js';
import type { IssuedCert } from './openssl-ca.js';

type MasterKeys = ConstructorParameters<typeof EndorserStore>[1];

/** The master keys endorser keys are sealed with, from one base64 test key. */
export const testMasterKeys =
  (masterKey: string): MasterKeys =>
  () =>
    keyRingMasterKeys(singleKeyRing(masterKey, 'test master key'));

/**
 * The worker's image-list dependencies: its own stores on `pool` and `mappings` as given
 * (the same array, so a test may empty it to make publishing fail).
 */
export function workerImageListDeps(
  pool: pg.Pool,
  master: MasterKeys,
  mappings: readonly ImageListPublishMapping[],
  extra: Pick<ImageListActivityDeps, 'objectWriters'> = {},
): ImageListActivityDeps {
  const endorsers = new EndorserStore(pool, master, 'worker');
  return {
    pool,
    endorsers,
    lists: new ImageListStore(pool, endorsers, 'worker'),
    mappings,
    configOrigin: 'test config',
    ...extra,
  };
}

/** Stores `endorser`'s certificate and key as an operator would; returns the operator's list store. */
export async function operatorListStore(
  pool: pg.Pool,
  master: MasterKeys,
  endorser: IssuedCert,
): Promise<ImageListStore> {
  const endorsers = new EndorserStore(pool, master, 'test');
  await endorsers.add({
    certificatePem: readFileSync(endorser.certPath, 'utf8'),
    keyPem: readFileSync(endorser.keyPath, 'utf8'),
  });
  return new ImageListStore(pool, endorsers, 'test');
}

/** Adds an empty list of Imagecast's images, endorsed by `endorserDn`; returns its identifier. */
export async function addImageList(
  lists: ImageListStore,
  endorserDn: string,
  list: { title: string; description: string; uri: string },
): Promise<string> {
  const stored = await lists.add({
    endorserDn,
    metadata: {
      'dc:title': list.title,
      'dc:description': list.description,
      'dc:source': 'imagecast',
      'hv:uri': list.uri,
    },
  });
  return stored.identifier;
}
