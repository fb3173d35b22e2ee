import { z } from 'zod';
import './zod-messages.js';

/**
 * Where `imagecast imagelist publish` uploads a list, from its public hv:uri: vmcaster's
 * uriMatch/uriReplace. The mapping whose `uri_match` is the longest prefix of hv:uri wins,
 * and that prefix is replaced by `uri_replace`. Read from the CLI config file:
 *
 *   { "imagelist_publish": [{ "uri_match": "https://lists.example.org/", "uri_replace": "file:///srv/www/lists/" }] }
 */
export const imageListPublishMappingSchema = z
  .object({
    uri_match: z.string().min(1).describe("a prefix of the lists' hv:uri, e.g. https://lists.example.org/"),
    uri_replace: z
      .string()
      .min(1)
      .describe('what the prefix becomes: the upload target, e.g. file:///srv/www/lists/ (supported: file)'),
  })
  .strict();

export const imageListPublishSchema = z.array(imageListPublishMappingSchema);

export type ImageListPublishMapping = z.infer<typeof imageListPublishMappingSchema>;
