/** One package of an image, as its kiwi `.packages` manifest lists it. */
export interface ManifestPackage {
  name: string;
  version: string;
  release: string;
  arch: string;
  /** `unknown` when the manifest has no license column (older kiwi). */
  license: string;
}

/**
 * kiwi's packages manifest: one package per line, `name|epoch|version|release|arch|disturl|license`
 * (epoch is usually `(none)`; the license column may be missing). Lines that are not
 * package lines are ignored.
 */
export function parsePackagesManifest(text: string): ManifestPackage[] {
  const packages: ManifestPackage[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.split('|').map((f) => f.trim());
    const [name, , version, release, arch, , license] = fields;
    if (fields.length < 5 || !name || version === undefined || release === undefined) continue;
    packages.push({ name, version, release, arch: arch ?? '', license: license || 'unknown' });
  }
  return packages;
}
