import type pg from 'pg';

/**
 * The public catalog (the marketplace): what anybody may launch, read from `catalog_images`.
 * Only images released public and still live (active or deprecated) appear: a private or
 * shared image, one still pending, and one deleted never do — not even as another image's
 * replacement.
 */

/** A signed image list that carries a file, by its checksum (see docs/imagelists.md). */
export interface SignedListRef {
  uuid: string;
  title?: string;
  /** The endorser's DN, OpenSSL slash form. */
  endorser: string;
  expiresAt: Date;
  /** The gateway's copy of the last signed list: `/imagelists/<uuid>`. */
  url: string;
  /** The list's own hv:uri, where subscribers fetch it. */
  publishedUri?: string;
}

/**
 * Which signed lists carry each of these checksums. The gateway's default reads the published
 * lists' signed copies (imagelist/published-lists.ts); NO_SIGNED_LISTS answers none.
 */
export type SignedListsCarrying = (checksums: string[]) => Promise<Map<string, SignedListRef[]>>;

export const NO_SIGNED_LISTS: SignedListsCarrying = async () => new Map();

export interface PublicImage {
  imageId: string;
  imageName: string;
  state: 'active' | 'deprecated';
  checksum: string;
  sourceVersion?: string;
  sourceRelease?: string;
  createdAt: Date;
  activatedAt?: Date;
  deprecatedAt?: Date;
  /** When the cloud deletes (or the retirement schedule deletes) this deprecated image. */
  deleteAfter?: Date;
  /** What replaced a deprecated image, when that image is public too. */
  replacement?: { imageId: string; imageName: string };
}

/** One cloud region of a line: its current image, and the deprecated ones still there. */
export interface PublicRegion {
  cloud: string;
  region: string;
  /** Active images, newest first: more than one only when two accounts publish the line there. */
  current: PublicImage[];
  deprecated: PublicImage[];
}

/** An image file (by checksum) released in a line, and the signed lists that carry it. */
export interface PublicFile {
  checksum: string;
  sourceVersion?: string;
  sourceRelease?: string;
  imageNames: string[];
  signedLists: SignedListRef[];
}

export interface PublicImageLine {
  /** The job's name template, e.g. `sles-15-sp6-v{date}-x86_64`: it names the OS. */
  line: string;
  /** Read from the line's or its images' names (x86_64, aarch64, …); unset when they do not say. */
  architecture?: string;
  clouds: string[];
  regions: PublicRegion[];
  files: PublicFile[];
}

export interface PublicCatalogQuery {
  /** Words that must all appear in the line's name, an image name or id, or the source version. */
  q?: string;
  cloud?: string;
  arch?: string;
}

export interface PublicCatalogPage {
  lines: PublicImageLine[];
  /** Every cloud and architecture in the whole public catalog (search choices). */
  clouds: string[];
  architectures: string[];
}

interface PublicRow {
  cloud: string;
  region: string;
  image_id: string;
  image_name: string;
  image_line: string;
  checksum: string;
  source_version: string | null;
  source_release: string | null;
  state: 'active' | 'deprecated';
  created_at: Date;
  activated_at: Date | null;
  deprecated_at: Date | null;
  delete_after: Date | null;
  replacement_id: string | null;
  replacement_name: string | null;
}

/** Architecture names as image names spell them, and what we call them. */
const ARCHITECTURES: Record<string, string> = {
  x86_64: 'x86_64',
  amd64: 'x86_64',
  aarch64: 'aarch64',
  arm64: 'aarch64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
};
const ARCH_TOKEN = new RegExp(`(?:^|[^a-z0-9])(${Object.keys(ARCHITECTURES).join('|')})(?=$|[^a-z0-9])`, 'i');

/** The architecture a name states as a word of its own (`…-x86_64`, `….aarch64-…`), if any. */
export function architectureInName(name: string): string | undefined {
  const match = ARCH_TOKEN.exec(name);
  return match ? ARCHITECTURES[match[1]!.toLowerCase()] : undefined;
}

export class PublicCatalog {
  constructor(
    private readonly pool: pg.Pool,
    private readonly signedLists: SignedListsCarrying = NO_SIGNED_LISTS,
  ) {}

  /** The public image lines matching the query, by line name; regions by cloud and region. */
  async page(query: PublicCatalogQuery = {}): Promise<PublicCatalogPage> {
    const all = groupLines(await this.publicRows());
    const lines = all.flatMap((line) => matching(line, query));
    const lists = await this.signedLists([...new Set(lines.flatMap((l) => l.files.map((f) => f.checksum)))]);
    for (const file of lines.flatMap((l) => l.files)) file.signedLists = lists.get(file.checksum) ?? [];
    return {
      lines,
      clouds: [...new Set(all.flatMap((l) => l.clouds))].sort(),
      architectures: [...new Set(all.flatMap((l) => (l.architecture ? [l.architecture] : [])))].sort(),
    };
  }

  private async publicRows(): Promise<PublicRow[]> {
    // A replacement is named only if it is itself public and live: a private image's id never shows.
    const result = await this.pool.query<PublicRow>(
      `SELECT i.cloud, i.region, i.image_id, i.image_name, i.image_line, i.checksum, i.source_version,
              i.source_release, i.state, i.created_at, i.activated_at, i.deprecated_at, i.delete_after,
              r.image_id AS replacement_id, r.image_name AS replacement_name
         FROM catalog_images i
         LEFT JOIN LATERAL (
           SELECT image_id, image_name FROM catalog_images r
            WHERE r.cloud = i.cloud AND r.region = i.region AND r.image_id = i.replacement_image_id
              AND r.visibility = 'public' AND r.state IN ('active', 'deprecated')
            LIMIT 1) r ON true
        WHERE i.visibility = 'public' AND i.state IN ('active', 'deprecated')
        ORDER BY i.image_line, i.cloud, i.region, COALESCE(i.activated_at, i.created_at) DESC, i.id DESC`,
    );
    return result.rows;
  }
}

function toPublicImage(row: PublicRow): PublicImage {
  return {
    imageId: row.image_id,
    imageName: row.image_name,
    state: row.state,
    checksum: row.checksum,
    ...(row.source_version !== null && { sourceVersion: row.source_version }),
    ...(row.source_release !== null && { sourceRelease: row.source_release }),
    createdAt: row.created_at,
    ...(row.activated_at && { activatedAt: row.activated_at }),
    ...(row.deprecated_at && { deprecatedAt: row.deprecated_at }),
    ...(row.delete_after && { deleteAfter: row.delete_after }),
    ...(row.replacement_id !== null && {
      replacement: { imageId: row.replacement_id, imageName: row.replacement_name ?? row.replacement_id },
    }),
  };
}

/** Rows come sorted by line, cloud, region, newest first; so do the groups. */
function groupLines(rows: PublicRow[]): PublicImageLine[] {
  const lines = new Map<string, PublicImageLine>();
  for (const row of rows) {
    let line = lines.get(row.image_line);
    if (!line) {
      line = { line: row.image_line, clouds: [], regions: [], files: [] };
      lines.set(row.image_line, line);
    }
    if (!line.clouds.includes(row.cloud)) line.clouds.push(row.cloud);
    let region = line.regions.at(-1);
    if (!region || region.cloud !== row.cloud || region.region !== row.region) {
      region = { cloud: row.cloud, region: row.region, current: [], deprecated: [] };
      line.regions.push(region);
    }
    const image = toPublicImage(row);
    (image.state === 'active' ? region.current : region.deprecated).push(image);
    let file = line.files.find((f) => f.checksum === row.checksum);
    if (!file) {
      file = {
        checksum: row.checksum,
        ...(row.source_version !== null && { sourceVersion: row.source_version }),
        ...(row.source_release !== null && { sourceRelease: row.source_release }),
        imageNames: [],
        signedLists: [],
      };
      line.files.push(file);
    }
    if (!file.imageNames.includes(row.image_name)) file.imageNames.push(row.image_name);
  }
  for (const line of lines.values()) {
    const names = [
      line.line,
      ...line.regions.flatMap((r) => [...r.current, ...r.deprecated].map((i) => i.imageName)),
    ];
    const architecture = names.map(architectureInName).find((a) => a !== undefined);
    if (architecture) line.architecture = architecture;
  }
  return [...lines.values()];
}

/** The line as the query sees it: [] when it does not match, only the asked cloud's regions. */
function matching(line: PublicImageLine, query: PublicCatalogQuery): PublicImageLine[] {
  const cloud = query.cloud?.trim().toLowerCase();
  const arch = query.arch?.trim().toLowerCase();
  const wanted = arch && Object.hasOwn(ARCHITECTURES, arch) ? ARCHITECTURES[arch] : arch;
  if (wanted && (line.architecture ?? '').toLowerCase() !== wanted) return [];
  const regions = cloud ? line.regions.filter((r) => r.cloud.toLowerCase() === cloud) : line.regions;
  if (regions.length === 0) return [];
  const images = regions.flatMap((r) => [...r.current, ...r.deprecated]);
  const text = [line.line, ...images.flatMap((i) => [i.imageName, i.imageId, i.sourceVersion ?? ''])]
    .join('\n')
    .toLowerCase();
  const words = (query.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.every((word) => text.includes(word))) return [];
  if (!cloud) return [line];
  const checksums = new Set(images.map((i) => i.checksum));
  return [
    {
      ...line,
      clouds: line.clouds.filter((c) => c.toLowerCase() === cloud),
      regions,
      files: line.files.filter((f) => checksums.has(f.checksum)),
    },
  ];
}
