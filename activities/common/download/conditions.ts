import type { ImageCondition } from '../../../schemas/release-plan.js';
import type { ManifestPackage } from './packages-manifest.js';
import { rpmVersionCompare } from './rpm-version.js';

export type { ImageCondition };

/** What conditions are checked against: the build itself and its packages manifest. */
export interface BuildFacts {
  version: string;
  release: string;
  /** Absent when the build has no `.packages` manifest beside it. */
  packages?: ManifestPackage[];
}

/** A condition the build does not meet, and what was found instead. */
export interface UnmetCondition {
  condition: ImageCondition;
  /** e.g. `package kernel-default >= 6.5`. */
  wanted: string;
  /** e.g. `the image has kernel-default 6.4.0-1.1`. */
  found: string;
}

type Operator = NonNullable<ImageCondition['condition']>;

const OPERATORS: Record<Operator, (order: number) => boolean> = {
  '>=': (o) => o >= 0,
  '==': (o) => o === 0,
  '<=': (o) => o <= 0,
  '>': (o) => o > 0,
  '<': (o) => o < 0,
};

/**
 * The conditions `build` does not meet, with mash's meanings: without `package_name` a
 * condition is on the build's own version/release; with `package_name` alone the package
 * must be in the image; with a version and/or release, the package's (or build's) version
 * and/or release must compare as `condition` says (default `>=`), in rpm order.
 */
export function unmetConditions(conditions: readonly ImageCondition[], build: BuildFacts): UnmetCondition[] {
  const unmet: UnmetCondition[] = [];
  for (const condition of conditions) {
    const wanted = describeCondition(condition);
    if (!condition.package_name) {
      if (!holds(condition, build)) {
        unmet.push({ condition, wanted, found: `the build is ${build.version}-${build.release}` });
      }
      continue;
    }
    if (!build.packages) {
      unmet.push({ condition, wanted, found: 'the build has no packages manifest to check it against' });
      continue;
    }
    const pkg = build.packages.find((p) => p.name === condition.package_name);
    if (!pkg)
      unmet.push({ condition, wanted, found: `the image does not contain ${condition.package_name}` });
    else if (!holds(condition, pkg)) {
      unmet.push({ condition, wanted, found: `the image has ${pkg.name} ${pkg.version}-${pkg.release}` });
    }
  }
  return unmet;
}

/** rpm's label order: version first, release only between equal versions (or when only it is asked for). */
function holds(condition: ImageCondition, found: { version: string; release: string }): boolean {
  const { version, release } = condition;
  if (version === undefined && release === undefined) return true;
  let order = version === undefined ? 0 : rpmVersionCompare(found.version, version);
  if (order === 0 && release !== undefined) order = rpmVersionCompare(found.release, release);
  return OPERATORS[condition.condition ?? '>='](order);
}

export function describeCondition(c: ImageCondition): string {
  const subject = c.package_name ? `package ${c.package_name}` : 'image';
  const label =
    c.version !== undefined && c.release !== undefined
      ? `${c.version}-${c.release}`
      : c.version !== undefined
        ? `version ${c.version}`
        : c.release !== undefined
          ? `release ${c.release}`
          : undefined;
  return label ? `${subject} ${c.condition ?? '>='} ${label}` : `${subject} present`;
}

/** Why a package is disallowed: a `disallow_packages` glob it matches or its `disallow_licenses` license. */
export interface DisallowedPackage {
  name: string;
  reason: string;
}

/**
 * Packages `disallow_packages` forbids (shell globs on the name: `*` any run, `?` one
 * character, as mash's fnmatch) or whose license `disallow_licenses` forbids (exact,
 * case-insensitive).
 */
export function disallowedPackages(
  packages: readonly ManifestPackage[],
  disallowPackages: readonly string[],
  disallowLicenses: readonly string[],
): DisallowedPackage[] {
  const globs = disallowPackages.map((glob) => ({ glob, pattern: globToRegExp(glob) }));
  const licenses = new Set(disallowLicenses.map((l) => l.toLowerCase()));
  const found: DisallowedPackage[] = [];
  for (const pkg of packages) {
    const glob = globs.find((g) => g.pattern.test(pkg.name));
    if (glob) found.push({ name: pkg.name, reason: `matches disallow_packages ${glob.glob}` });
    if (licenses.has(pkg.license.toLowerCase()))
      found.push({ name: pkg.name, reason: `has disallowed license ${pkg.license}` });
  }
  return found;
}

function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}
