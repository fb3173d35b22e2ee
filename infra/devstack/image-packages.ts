import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BuildPackage } from './build-service.js';

const run = promisify(execFile);

/**
 * The packages really installed in a Debian image (its dpkg status file, read out of the
 * ext4 file system with debugfs: no mount, no root), so the demo's `.packages` manifest —
 * and the job's package conditions checked against it — tell the truth about the image.
 */
export async function packagesOfDebianImage(disk: string): Promise<BuildPackage[]> {
  const dir = await mkdtemp(join(tmpdir(), 'imagecast-dpkg-'));
  try {
    const status = join(dir, 'status');
    await run('debugfs', ['-R', `dump /var/lib/dpkg/status ${status}`, disk]);
    return parseDpkgStatus(await readFile(status, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Installed packages from a dpkg status file. A Debian version `[epoch:]upstream[-revision]`
 * maps onto the manifest's version and release (rpm's split), the epoch dropped as kiwi does.
 */
export function parseDpkgStatus(text: string): BuildPackage[] {
  const packages: BuildPackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1]?.trim();
    const name = field('Package');
    const full = field('Version');
    if (!name || !full || !/\binstalled$/.test(field('Status') ?? '')) continue;
    const upstreamAndRevision = full.replace(/^\d+:/, '');
    const dash = upstreamAndRevision.lastIndexOf('-');
    const version = dash > 0 ? upstreamAndRevision.slice(0, dash) : upstreamAndRevision;
    const release = dash > 0 ? upstreamAndRevision.slice(dash + 1) : '0';
    const arch = field('Architecture');
    packages.push({ name, version, release, ...(arch && { arch }) });
  }
  return packages.sort((a, b) => a.name.localeCompare(b.name));
}
