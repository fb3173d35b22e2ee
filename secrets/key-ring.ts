/**
 * AES-256 key rings read from the environment: the master keys of the account store
 * (`IMAGECAST_MASTER_KEY[S_FILE]`) and the payload codec's keys (`IMAGECAST_PAYLOAD_KEY[S_FILE]`).
 * One key is enough to start; a keys file holds several so data sealed before a rotation
 * stays readable. Errors name the variable or field at fault and never echo key material:
 * they end up in worker logs and CI output.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const KEY_BYTES = 32;

/**
 * AES-256 keys by id, one of them current: new data is sealed with the current key, older
 * data stays readable with the others until re-sealed or re-wrapped.
 */
export interface KeyRing {
  readonly currentId: string;
  key(id: string): Buffer | undefined;
  ids(): string[];
  /** Where the keys came from, for error messages (a variable or file name, never a key). */
  readonly origin: string;
}

/** Strict base64: `Buffer.from(s, 'base64')` silently drops junk, which would hide a pasted-wrong key. */
function decodeBase64(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (trimmed.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed)) return undefined;
  return Buffer.from(trimmed, 'base64');
}

/** A base64 string that decodes to exactly 32 bytes; the message reports only the length. */
const keyMaterial = z.string().transform((text, ctx) => {
  const bytes = decodeBase64(text);
  if (bytes?.length !== KEY_BYTES) {
    const got = bytes ? String(bytes.length) : 'text that is not base64';
    ctx.addIssue({ code: 'custom', message: `must be ${KEY_BYTES} bytes of base64, got ${got}` });
    return z.NEVER;
  }
  return bytes;
});

/**
 * Key ids travel in payload metadata in clear text, so keep them short and printable. At most
 * 40 characters: base64 of a 32-byte key is at least 43, so a key pasted where an id belongs
 * never passes for one (and never appears in an error, see `describeIssues`).
 */
const KEY_ID = /^[A-Za-z0-9._-]{1,40}$/;
const keyId = z.string().regex(KEY_ID, 'key ids are 1-40 of A-Z a-z 0-9 . _ -');

const keysFileSchema = z
  .object({
    current: keyId,
    keys: z.record(keyId, keyMaterial),
  })
  .refine((file) => Object.hasOwn(file.keys, file.current), {
    message: 'names no entry of "keys"',
    path: ['current'],
  });

/** `k-` and the first 8 hex digits of sha256(key): stable, and reveals nothing usable about the key. */
export function keyIdOf(key: Buffer): string {
  return `k-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

/** A new random key, base64, for a `…_KEY` variable or a keys file entry. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function keyring(currentId: string, keys: Map<string, Buffer>, origin: string): KeyRing {
  // Data sealed under a single `…_KEY` records the key's derived `k-…` id: a keys file that
  // names that key otherwise ("2026-05") must still open it, or the first rotation fails.
  const byDerivedId = new Map([...keys.values()].map((key) => [keyIdOf(key), key]));
  return {
    currentId,
    key: (id) => keys.get(id) ?? byDerivedId.get(id),
    ids: () => [...keys.keys()],
    origin,
  };
}

/**
 * zod issues as `source: path: message`. zod v4 messages carry no input values; paths can
 * (record keys), so a segment that is not a valid key id is not printed.
 */
function describeIssues(source: string, error: z.ZodError): string {
  const segment = (part: PropertyKey) =>
    typeof part === 'number' || KEY_ID.test(String(part)) ? String(part) : '<invalid key id>';
  return error.issues
    .map((issue) => [source, issue.path.map(segment).join('.'), issue.message].filter(Boolean).join(': '))
    .join('; ');
}

/** Keys from the parsed JSON of a keys file: `{"current": "<id>", "keys": {"<id>": "<base64>"}}`. */
export function keyRingFromJson(json: unknown, source = 'keys'): KeyRing {
  const parsed = keysFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(describeIssues(source, parsed.error));
  return keyring(parsed.data.current, new Map(Object.entries(parsed.data.keys)), source);
}

/** One key (a `…_KEY` variable), under its derived id. */
export function singleKeyRing(text: string, source: string): KeyRing {
  const parsed = keyMaterial.safeParse(text);
  if (!parsed.success) throw new Error(describeIssues(source, parsed.error));
  const id = keyIdOf(parsed.data);
  return keyring(id, new Map([[id, parsed.data]]), source);
}

function keysFile(variable: string, path: string): KeyRing {
  const source = `${variable} (${path})`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${source}: cannot read: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text around the error, which may be a key.
    throw new Error(`${source}: not valid JSON`);
  }
  return keyRingFromJson(json, source);
}

/**
 * The keys an environment names with `<PREFIX>_KEY` (one key) or `<PREFIX>_KEYS_FILE`
 * (several, for rotation), or undefined when it names none. Setting both is refused: which
 * one wins would be a guess.
 */
export function keyRingFromEnv(env: NodeJS.ProcessEnv, prefix: string): KeyRing | undefined {
  const [keyVar, fileVar] = [`${prefix}_KEY`, `${prefix}_KEYS_FILE`];
  const single = env[keyVar];
  const file = env[fileVar];
  if (single && file) throw new Error(`set one of ${keyVar} and ${fileVar}, not both`);
  if (single) return singleKeyRing(single, keyVar);
  if (file) return keysFile(fileVar, file);
  return undefined;
}
