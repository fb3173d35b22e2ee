// Publishing a stored list as vmcaster's --upload-imagelist does: the version bumped, created
// = now, expires = now + lifetime (never past the certificate), signed by the stored endorser,
// uploaded; and exporting one, as JSON or signed, without changing it.
import type { EndorserStore } from './endorser-store.js';
import { formatHepixDate, listDates } from './hepix-date.js';
import { imageListDocument, type StoredImageList } from './list-document.js';
import type { ImageListStore } from './list-store.js';
import type { ImageListPublisher } from './publish-target.js';
import { signImageList } from './sign.js';
import { nextVersion } from './version-order.js';

/** What the web server sends it as: the bytes are read as they are by every subscriber. */
export const SIGNED_LIST_CONTENT_TYPE = 'text/plain; charset=utf-8';

export interface PublishInput {
  lists: ImageListStore;
  endorsers: EndorserStore;
  identifier: string;
  /** Days the list is valid; default: the list's stored lifetime. Recorded: renewal keeps it. */
  lifetimeDays?: number;
  /**
   * Renewal and releases publish on no person's word: they keep the lifetime of the last
   * publication (a one-off `publish --lifetime 7` stays a 7-day cadence) when none is given.
   */
  keepLastLifetime?: boolean;
  now: Date;
  /** The upload target and its publisher for the list's hv:uri (publish-target.ts). */
  target(publicUri: string): { uri: string; publisher: ImageListPublisher };
}

export interface Published {
  identifier: string;
  title: string;
  uri: string;
  target: string;
  previousVersion: string;
  version: string;
  created: string;
  expires: string;
  /** The lifetime asked for (the expiry may be capped at the certificate's). */
  lifetimeDays: number;
  images: number;
  signer: { dn: string; ca: string };
  notes: string[];
}

export async function publishImageList(input: PublishInput): Promise<Published> {
  const list = await input.lists.get(input.identifier);
  const uri = String(list.metadata['hv:uri']);
  // Before signing: a list with nowhere to go is refused without touching the key.
  const target = input.target(uri);
  const version = nextVersion(list.version);
  const lifetimeDays =
    input.lifetimeDays ??
    (input.keepLastLifetime ? list.publishedLifetimeDays : undefined) ??
    list.lifetimeDays;
  const signed = await signStored(input.endorsers, { ...list, version }, input.now, lifetimeDays);
  await target.publisher.put(target.uri, signed.smime, SIGNED_LIST_CONTENT_TYPE);
  const body = signed.list['hv:imagelist'];
  await input.lists.recordPublished(
    list.identifier,
    list.version,
    version,
    { created: new Date(body['dc:date:created']), expires: new Date(body['dc:date:expires']), lifetimeDays },
    { smime: signed.smime, document: signed.list },
  );
  return {
    identifier: list.identifier,
    title: body['dc:title'],
    uri,
    target: target.uri,
    previousVersion: list.version,
    version,
    created: body['dc:date:created'],
    expires: body['dc:date:expires'],
    lifetimeDays,
    images: body['hv:images'].length,
    signer: signed.signer,
    notes: signed.notes,
  };
}

/** The list as JSON (unsigned), with the dates of its last publication, or those one now would give. */
export async function exportImageListJson(
  lists: ImageListStore,
  endorsers: EndorserStore,
  identifier: string,
  now: Date,
): Promise<string> {
  const list = await lists.get(identifier);
  const endorser = await endorsers.describe(list.endorserDn);
  const dates =
    list.publishedAt && list.expiresAt
      ? { created: formatHepixDate(list.publishedAt), expires: formatHepixDate(list.expiresAt) }
      : listDates(now, list.lifetimeDays, new Date(endorser.notAfter));
  return `${JSON.stringify(imageListDocument(list, endorser, dates), null, 4)}\n`;
}

/** The list signed now by its endorser, version unchanged; nothing is stored or uploaded. */
export async function exportImageListSigned(
  lists: ImageListStore,
  endorsers: EndorserStore,
  identifier: string,
  now: Date,
) {
  const list = await lists.get(identifier);
  return signStored(endorsers, list, now, list.lifetimeDays);
}

async function signStored(endorsers: EndorserStore, list: StoredImageList, now: Date, lifetimeDays: number) {
  const secret = await endorsers.open(list.endorserDn);
  // sign sets the dates; these only make the document whole.
  const placeholder = formatHepixDate(now);
  const doc = imageListDocument(list, secret, { created: placeholder, expires: placeholder });
  return signImageList({
    listText: JSON.stringify(doc),
    certificatePem: secret.certificatePem,
    keyPem: secret.keyPem,
    now,
    lifetimeDays,
  });
}
