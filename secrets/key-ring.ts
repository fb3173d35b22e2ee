import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * AES-256 keys by id, one of them current: new secrets are sealed with the current key,
 * older ones stay readable with the others until they are re-wrapped (`imagecast keys rotate`).
 */
export interface KeyRing {
  readonly currentId: string;
  key(id: string): Buffer | undefined;
  ids(): string[];
  /** Where the keys came from, for error messages (an env variable or file name, never a key). */
  readonly origin: string;
}

const base64Key = z
  .string()
  .refine((s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s.trim()), 'must be base64')
  .refine((s) => Buffer.from(s.trim(), 'base64').length === 32, {
    // The length only: the value itself never goes into a message.
    error: (issue) => `must be 32 bytes of base64, got ${Buffer.from(String(issue.input).trim(), 'base64').length}`,
  });

const keyRingFile = z
  .object({
    current: z.string().min(1),
    keys: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'key ids are letters, digits, ".", "_", "-"'), base64Key),
  })
  .strict()
  .refine((f) => f.current in f.keys, { path: ['current'], message: 'names no key in "keys"' });

/** `k-` and the first 8 hex digits of the key's SHA-256: names a key without revealing it. */
export function keyIdOf(key: Buffer): string {
  return `k-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

/** A key ring of one key given as base64 (an environment variable). */
export function singleKeyRing(base64: string, origin: string): KeyRing {
  const parsed = base64Key.safeParse(base64);
  if (!parsed.success) throw new Error(`${origin}: ${parsed.error.issues[0]!.message}`);
  const key = Buffer.from(base64.trim(), 'base64');
  const id = keyIdOf(key);
  return { currentId: id, key: (wanted) => (wanted === id ? key : undefined), ids: () => [id], origin };
}

/** A key ring from `{"current": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}}`. */
export function keyRingFromJson(json: unknown, origin: string): KeyRing {
  const parsed = keyRingFile.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${origin}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(lines.join('\n'));
  }
  const keys = new Map(Object.entries(parsed.data.keys).map(([id, b64]) => [id, Buffer.from(b64.trim(), 'base64')]));
  return { currentId: parsed.data.current, key: (id) => keys.get(id), ids: () => [...keys.keys()], origin };
}

export function keyRingFromFile(path: string): KeyRing {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the key file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, which holds keys: say only where it broke.
    throw new Error(`the key file ${path} is not valid JSON`);
  }
  return keyRingFromJson(json, path);
}

/**
 * The key ring an environment names: `<PREFIX>_KEYS_FILE` (several keys, for rotation) or
 * `<PREFIX>_KEY` (one base64 key); undefined when neither is set.
 */
export function keyRingFromEnv(env: NodeJS.ProcessEnv, prefix: string): KeyRing | undefined {
  const file = env[`${prefix}_KEYS_FILE`];
  if (file) return keyRingFromFile(file);
  const single = env[`${prefix}_KEY`];
  if (single) return singleKeyRing(single, `${prefix}_KEY`);
  return undefined;
}
