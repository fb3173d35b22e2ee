// Keys and identifiers as people type them on the command line, checked with words that say
// what was expected and what was given (PostgreSQL's own, for a bad uuid, would not).
import { ImageListInputError } from './store-errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Image keys whose value is a count: `set … hv:size 1024` stores the number 1024. */
const COUNT_KEYS = new Set([
  'hv:size',
  'hv:ram_minimum',
  'hv:core_minimum',
  'ad:ram_recommended',
  'ad:core_recommended',
]);

/** Refuses an identifier that is not a UUID before PostgreSQL would (with words of its own). */
export function requireUuid(what: string, value: string): string {
  if (!UUID.test(value))
    throw new ImageListInputError([
      `${what}: expected a UUID such as 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b; given ${JSON.stringify(value)}`,
    ]);
  return value.toLowerCase();
}

/** A value typed on the command line as the list holds it: counts as numbers, the rest as text. */
export function hepixValue(key: string, text: string): unknown {
  return COUNT_KEYS.has(key) && /^\d+$/.test(text) ? Number(text) : text;
}

/** `dc:title`, `ad:vo`, `sl:checksum:sha512`: a namespace, a colon, a name. */
export function requireHepixKey(key: string, allowed: string): void {
  if (!/^[a-z]+:[A-Za-z0-9_:.-]+$/.test(key))
    throw new ImageListInputError([
      `KEY: expected a HEPiX key such as dc:title or ad:vo${allowed}; given ${JSON.stringify(key)}`,
    ]);
}
