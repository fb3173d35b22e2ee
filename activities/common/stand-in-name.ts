/**
 * force_replace_image where a cloud allows one image per name and region (EC2, local): the
 * new image is made under this name until its tests pass. Derived from the run's token, so a
 * retry finds it; within EC2's 128 characters and its name alphabet.
 */
export function standInName(imageName: string, releaseToken: string): string {
  const suffix = `-replacing-${releaseToken.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}`;
  return `${imageName.slice(0, 128 - suffix.length)}${suffix}`;
}
