// A stored list as the HEPiX document vmcaster writes (keys sorted, as its json.dumps
// sort_keys=True does), and the checks of one list or image against schemas/imagelist.ts
// with words that name the key, what was expected and what was given.
import { checkImageList, imageSchema, keyPath, type ImageList } from '../../../schemas/imagelist.js';

/** A list as stored: its own keys, and what Imagecast computes or keeps beside them. */
export interface StoredImageList {
  identifier: string;
  endorserDn: string;
  version: string;
  lifetimeDays: number;
  /** The list's own HEPiX keys: dc:title, dc:description, dc:source, hv:uri, ad:vo, … */
  metadata: Record<string, unknown>;
  /** The hv:image objects, in list order. */
  images: Array<Record<string, unknown>>;
  /** dc:date:created / dc:date:expires of the last publication (or import). */
  publishedAt?: Date;
  expiresAt?: Date;
  /**
   * The lifetime the last publication asked for (publish --lifetime, else lifetimeDays then):
   * renewal keeps it. Unset for imported lists and after `set lifetime`: renewal uses lifetimeDays.
   */
  publishedLifetimeDays?: number;
}

export interface EndorserNames {
  dn: string;
  ca: string;
  email: string;
  creator: string;
}

/** Keys Imagecast writes itself; `set` refuses them and says how they change. */
export const COMPUTED_LIST_KEYS: Record<string, string> = {
  'dc:identifier': 'the identifier is fixed for the life of a list (subscriptions are keyed on it)',
  'dc:date:created': 'publish sets it to now',
  'dc:date:expires': 'publish sets it to now + lifetime (set lifetime DAYS)',
  'hv:endorser': 'set endorser DN names a stored endorser',
  'hv:images': 'use imagecast imagelist image add|set|remove',
};

/** The HEPiX document of a stored list, with the dates given. */
export function imageListDocument(
  list: StoredImageList,
  endorser: EndorserNames,
  dates: { created: string; expires: string },
): ImageList {
  const body: Record<string, unknown> = {
    ...list.metadata,
    'dc:date:created': dates.created,
    'dc:date:expires': dates.expires,
    'dc:identifier': list.identifier,
    'hv:version': list.version,
    'hv:endorser': {
      'hv:x509': {
        'dc:creator': endorser.creator,
        'hv:ca': endorser.ca,
        'hv:dn': endorser.dn,
        'hv:email': endorser.email,
      },
    },
    'hv:images': list.images.map((image) => ({ 'hv:image': sortedKeys(image) })),
  };
  return { 'hv:imagelist': sortedKeys(body) } as ImageList;
}

/** Problems of the list's own keys (the images are checked one by one, by imageProblems). */
export function listProblems(list: StoredImageList, endorser: EndorserNames): string[] {
  // Dates a publication would write; they are Imagecast's, so they cannot be wrong.
  const doc = imageListDocument({ ...list, images: [] }, endorser, {
    created: '2000-01-01T00:00:00Z',
    expires: '2000-01-29T00:00:00Z',
  });
  const checked = checkImageList(doc);
  if (checked.ok) return [];
  return checked.issues.map((issue) => {
    const key = issue.path.replace(/^hv:imagelist\.?/, '');
    return `${key || 'the list'}: ${withGiven(issue.message, list.metadata[key] ?? topLevel(list, key))}`;
  });
}

/** Problems of one image, each naming its key: `hv:size: expected an integer; given "12x"`. */
export function imageProblems(image: Record<string, unknown>): string[] {
  const parsed = imageSchema.safeParse(image);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    const key = keyPath(issue.path);
    return `${key}: ${withGiven(issue.message, image[String(issue.path[0])])}`;
  });
}

function topLevel(list: StoredImageList, key: string): unknown {
  return key === 'hv:version' ? list.version : key === 'dc:identifier' ? list.identifier : undefined;
}

/** The value given, when the message does not say it already (nothing here is secret). */
function withGiven(message: string, given: unknown): string {
  if (given === undefined || message.includes(JSON.stringify(given))) return message;
  return `${message}; given ${JSON.stringify(given)}`;
}

function sortedKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
