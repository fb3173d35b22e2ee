/**
 * The payload codec's keys: `IMAGECAST_PAYLOAD_KEY` (one key) or `IMAGECAST_PAYLOAD_KEYS_FILE`
 * (several, so payloads written before a rotation stay readable). See secrets/key-ring.ts.
 */
import { generateKey, keyIdOf, keyRingFromEnv, keyRingFromJson, type KeyRing } from '../../secrets/key-ring.js';

export const ENV_PAYLOAD_KEY = 'IMAGECAST_PAYLOAD_KEY';
export const ENV_PAYLOAD_KEYS_FILE = 'IMAGECAST_PAYLOAD_KEYS_FILE';

/** The keys a codec may use: `currentId` encrypts, every id decrypts. */
export type PayloadKeys = KeyRing;

export function payloadKeysFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadKeys | undefined {
  return keyRingFromEnv(env, 'IMAGECAST_PAYLOAD');
}

export const payloadKeysFromJson = (json: unknown, source = 'payload keys'): PayloadKeys => keyRingFromJson(json, source);
export const generatePayloadKey = generateKey;
export const payloadKeyId = keyIdOf;
