import type { ResolvedImageSource } from '../../provider.js';
import { rpmVersionCompare } from './rpm-version.js';

/**
 * Image files we can release, by name suffix. Order is the preference between two files of
 * the same build (smallest download first). kiwi's Azure images are `.vhdfixed.xz`: the
 * disk and a VHD footer, which the transfer checks and takes off. Another format (qcow2) is
 * one more row here plus a converter in the transfer.
 */
export const IMAGE_FORMATS = [
  { suffix: '.raw.xz', compression: 'xz', format: 'raw' },
  { suffix: '.raw.gz', compression: 'gz', format: 'raw' },
  { suffix: '.raw', compression: 'none', format: 'raw' },
  { suffix: '.vhdfixed.xz', compression: 'xz', format: 'vhdfixed' },
] as const satisfies ReadonlyArray<{ suffix: string; compression: ResolvedImageSource['compression']; format: 'raw' | 'vhdfixed' }>;

type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** One image build in a build-service directory: `NAME.ARCH-VERSION-BuildRELEASE<suffix>`. */
export interface BuildFile {
  fileName: string;
  /** kiwi's image version, e.g. 15.6.0. */
  version: string;
  /** The build service's build counter, e.g. 1.42. */
  release: string;
  compression: ResolvedImageSource['compression'];
  format: ImageFormat['format'];
}

/**
 * The names of the files directly in a directory, from its listing: the links of an HTML
 * index page (Apache, nginx, OBS/MirrorCache) resolved against `directoryUrl`, or one name
 * per line for a plain listing (a local directory). Links that leave the directory (parent,
 * sub-directories, sort links, other hosts) are not files of this directory and are dropped.
 */
export function listedFileNames(listing: string, directoryUrl: string): string[] {
  const hrefs = [...listing.matchAll(/<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)].map(
    (m) => m[1] ?? m[2] ?? '',
  );
  if (hrefs.length === 0 && !/<html|<body|<a\s/i.test(listing)) {
    return unique(
      listing
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((n) => n.length > 0 && !n.includes('/')),
    );
  }
  const base = new URL(directoryUrl.endsWith('/') ? directoryUrl : `${directoryUrl}/`);
  const names: string[] = [];
  for (const href of hrefs) {
    let url: URL;
    try {
      url = new URL(decodeEntities(href), base);
    } catch {
      continue;
    }
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) continue;
    const rest = url.pathname.slice(base.pathname.length);
    if (rest.length === 0 || rest.includes('/')) continue;
    try {
      names.push(decodeURIComponent(rest));
    } catch {
      names.push(rest);
    }
  }
  return unique(names);
}

/**
 * The shape of the file names we look for, for messages:
 * `NAME.ARCH-VERSION[-PROFILE]-BuildRELEASE{.raw.xz,.raw.gz,.raw,.vhdfixed.xz}`.
 */
export function buildNamePattern(image: string, arch: string, profile?: string): string {
  const suffixes = IMAGE_FORMATS.map((f) => f.suffix).join(',');
  return `${image}.${arch}-VERSION${profile ? `-${profile}` : ''}-BuildRELEASE{${suffixes}}`;
}

/**
 * The builds of `image` for `arch` (and kiwi `profile`, which OBS multibuild puts after the
 * version) among `names`, newest first (rpm order of version, then release).
 */
export function matchingBuilds(
  names: readonly string[],
  image: string,
  arch: string,
  profile?: string,
): BuildFile[] {
  const suffixes = IMAGE_FORMATS.map((f) => escapeRegExp(f.suffix)).join('|');
  const profilePart = profile ? `-${escapeRegExp(profile)}` : '';
  // Version and release cannot hold '-': kiwi and OBS use it to separate the name's parts.
  const pattern = new RegExp(
    `^${escapeRegExp(image)}\\.${escapeRegExp(arch)}-([^-/]+)${profilePart}-Build([^-/]+?)(${suffixes})$`,
  );
  const builds: BuildFile[] = [];
  for (const fileName of names) {
    const m = pattern.exec(fileName);
    const format = m && IMAGE_FORMATS.find((f) => f.suffix === m[3]);
    if (!m || !format) continue;
    builds.push({ fileName, version: m[1]!, release: m[2]!, compression: format.compression, format: format.format });
  }
  const preference = (b: BuildFile) => IMAGE_FORMATS.indexOf(formatOf(b));
  return builds.sort(
    (a, b) =>
      rpmVersionCompare(b.version, a.version) ||
      rpmVersionCompare(b.release, a.release) ||
      preference(a) - preference(b),
  );
}

/** The build's name without the image suffix: the stem its `.packages` manifest shares. */
export function buildStem(build: BuildFile): string {
  return build.fileName.slice(0, build.fileName.length - formatOf(build).suffix.length);
}

function formatOf(build: BuildFile): ImageFormat {
  return IMAGE_FORMATS.find((f) => build.fileName.endsWith(f.suffix) && f.format === build.format)!;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

/** The few entities an index page puts into an href. */
function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|apos);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'",
  );
}
