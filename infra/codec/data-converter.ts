import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from './aes-gcm-codec.js';
import type { PayloadKeys } from './payload-keys.js';

/**
 * The data converter of every Imagecast worker and client: with payload keys, job documents,
 * results, heartbeat details and failures' details are encrypted before they reach Temporal
 * (and its history); without, payloads stay plain JSON.
 */
export function payloadDataConverter(keys: PayloadKeys | undefined): DataConverter | undefined {
  return keys ? { payloadCodecs: [new AesGcmPayloadCodec(keys)] } : undefined;
}
