// Taking a list made elsewhere (vmcaster, `openssl smime -sign`, an earlier export) into the
// store: JSON as it is, or a signed list whose signature, signer and hv:dn/hv:ca are checked
// first. Its endorser must be stored already, because publishing it again needs the key.
import { checkImageList, type ImageList } from '../../../schemas/imagelist.js';
import type { EndorserStore } from './endorser-store.js';
import { parseHepixDate } from './hepix-date.js';
import { COMPUTED_LIST_KEYS, type StoredImageList } from './list-document.js';
import type { ImageListStore } from './list-store.js';
import { ImageListInputError } from './store-errors.js';
import { verifyImageList } from './verify.js';

export interface ImportInput {
  lists: ImageListStore;
  endorsers: EndorserStore;
  /** The file's bytes: JSON, or S/MIME multipart/signed. */
  content: Buffer;
  /** Also check the signer's chain to this CA (PEM file), and that the list has not expired. */
  caFile?: string;
  /** Store a version older than the stored one. */
  force?: boolean;
  now: Date;
}

export interface Imported {
  identifier: string;
  title: string;
  version: string;
  previousVersion?: string;
  created: boolean;
  signed: boolean;
  signer?: { dn: string; ca: string };
  images: number;
  notes: string[];
}

export async function importImageList(input: ImportInput): Promise<Imported> {
  const signed = !/^\s*[{[]/.test(input.content.subarray(0, 64).toString('utf8'));
  const { list, signer } = signed
    ? await readSigned(input)
    : { list: readJson(input.content), signer: undefined };
  const body = list['hv:imagelist'];
  const x509 = body['hv:endorser']['hv:x509'];
  const endorser = await input.endorsers.describe(x509['hv:dn']).catch((error: Error) => {
    if (error.name !== 'ImageListNotFoundError') throw error;
    throw new ImageListInputError([
      `hv:endorser.hv:x509.hv:dn: ${error.message.replace(/^no endorser /, 'no stored endorser ')}; add it first with imagecast imagelist endorser add --cert CERT --key KEY`,
    ]);
  });
  if (endorser.ca !== x509['hv:ca'])
    throw new ImageListInputError([
      `hv:endorser.hv:x509.hv:ca: the stored endorser ${endorser.dn} was issued by ${JSON.stringify(endorser.ca)}; given ${JSON.stringify(x509['hv:ca'])}`,
    ]);
  const notes: string[] = [];
  if (endorser.email !== x509['hv:email'] || endorser.creator !== x509['dc:creator'])
    notes.push(
      `hv:email and dc:creator will be the stored endorser's (${endorser.email}, ${endorser.creator}) when the list is published`,
    );
  const metadata = Object.fromEntries(
    Object.entries(body).filter(([key]) => !(key in COMPUTED_LIST_KEYS) && key !== 'hv:version'),
  );
  const stored: StoredImageList = {
    identifier: body['dc:identifier'].toLowerCase(),
    endorserDn: endorser.dn,
    version: body['hv:version'],
    lifetimeDays: 28,
    metadata,
    images: body['hv:images'].map((entry) => ({
      ...entry['hv:image'],
      'dc:identifier': entry['hv:image']['dc:identifier'].toLowerCase(),
    })),
    publishedAt: parseHepixDate(body['dc:date:created'])!,
    expiresAt: parseHepixDate(body['dc:date:expires'])!,
  };
  const result = await input.lists.put(stored, Boolean(input.force));
  return {
    identifier: stored.identifier,
    title: body['dc:title'],
    version: stored.version,
    ...(result.previousVersion !== undefined && { previousVersion: result.previousVersion }),
    created: result.created,
    signed,
    ...(signer && { signer }),
    images: stored.images.length,
    notes,
  };
}

function readJson(content: Buffer): ImageList {
  let doc: unknown;
  try {
    doc = JSON.parse(content.toString('utf8'));
  } catch (error) {
    throw new ImageListInputError([
      `FILE: expected JSON or a signed (S/MIME) list; not JSON: ${(error as Error).message}`,
    ]);
  }
  const checked = checkImageList(doc);
  if (!checked.ok) throw new ImageListInputError(checked.issues.map((i) => `${i.path}: ${i.message}`));
  return checked.list;
}

async function readSigned(
  input: ImportInput,
): Promise<{ list: ImageList; signer: { dn: string; ca: string } }> {
  const result = await verifyImageList(input.content, {
    now: input.now,
    ...(input.caFile ? { caFile: input.caFile } : { signatureOnly: true }),
  });
  if (result.problems.length > 0 || !result.list || !result.signer)
    throw new ImageListInputError(
      result.problems.length > 0 ? result.problems : ['FILE: the signed list cannot be read'],
    );
  return { list: result.list, signer: result.signer };
}
