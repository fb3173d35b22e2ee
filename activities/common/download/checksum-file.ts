import type { ResolvedImageSource } from '../../provider.js';

export type ImageChecksum = ResolvedImageSource['checksum'];

const ALGORITHM_BY_HEX_LENGTH: Record<number, ImageChecksum['algorithm']> = { 64: 'sha256', 128: 'sha512' };

/**
 * The digest of `fileName` from its checksum file. Accepts what build services publish:
 * `<hex>  <name>` lines (sha256sum/sha512sum output, `*name` for binary mode), BSD-style
 * `SHA256 (name) = <hex>`, or a bare digest, either plain or wrapped in a PGP clear-signed
 * message (OBS signs them; the signature itself is not checked here). The algorithm
 * follows from the digest's length and must agree with `expected` (the file's extension)
 * when given. Throws a plain Error naming what was wrong.
 */
export function parseChecksumFile(
  text: string,
  fileName: string,
  expected?: ImageChecksum['algorithm'],
): ImageChecksum {
  const entries = signedBody(text)
    .split(/\r?\n/)
    .map(parseLine)
    .filter((e): e is { hex: string; name?: string } => e !== undefined);
  // A lone digest is taken whatever it names, as mash does: a wrong one fails safe later, as a
  // checksum mismatch. Among several, only the one naming the file will do.
  const chosen =
    entries.length === 1 ? entries[0] : entries.find((e) => e.name?.replace(/^.*\//, '') === fileName);
  if (!chosen) {
    const named = entries.map((e) => e.name).filter(Boolean);
    throw new Error(
      entries.length === 0
        ? `the checksum file of ${fileName} holds no sha256 or sha512 digest`
        : `the checksum file of ${fileName} has no digest for it (it names ${named.join(', ') || 'no file'})`,
    );
  }
  const algorithm = ALGORITHM_BY_HEX_LENGTH[chosen.hex.length]!;
  if (expected && expected !== algorithm) {
    throw new Error(`the ${expected} checksum file of ${fileName} holds a ${algorithm} digest`);
  }
  return { algorithm, hex: chosen.hex };
}

/** The signed text of a PGP clear-signed message (RFC 4880 §7), or the text itself. */
function signedBody(text: string): string {
  const begin = text.indexOf('-----BEGIN PGP SIGNED MESSAGE-----');
  if (begin < 0) return text;
  const lines = text.slice(begin).split(/\r?\n/);
  const headersEnd = lines.findIndex((line, k) => k > 0 && line.trim() === '');
  const signature = lines.findIndex((line) => line.startsWith('-----BEGIN PGP SIGNATURE-----'));
  const body = lines.slice(headersEnd + 1, signature < 0 ? undefined : signature);
  // Clear-signing dash-escapes lines that start with '-'.
  return body.map((line) => (line.startsWith('- ') ? line.slice(2) : line)).join('\n');
}

function parseLine(line: string): { hex: string; name?: string } | undefined {
  const trimmed = line.trim();
  const gnu = /^([0-9a-fA-F]{128}|[0-9a-fA-F]{64})(?:\s+\*?(.+))?$/.exec(trimmed);
  if (gnu) return { hex: gnu[1]!.toLowerCase(), name: gnu[2]?.trim() };
  const bsd = /^SHA(?:256|512)\s*\((.+)\)\s*=\s*([0-9a-fA-F]{128}|[0-9a-fA-F]{64})$/i.exec(trimmed);
  if (bsd) return { hex: bsd[2]!.toLowerCase(), name: bsd[1] };
  return undefined;
}
