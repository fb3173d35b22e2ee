import { z } from 'zod';
import './zod-messages.js';

/**
 * Where `imagecast imagelist publish` uploads a list, from its public hv:uri: vmcaster's
 * uriMatch/uriReplace. The mapping whose `uri_match` is the longest prefix of hv:uri wins,
 * and that prefix is replaced by `uri_replace`. Read from the CLI config file:
 *
 *   { "imagelist_publish": [{ "uri_match": "https://lists.example.org/", "uri_replace": "file:///srv/www/lists/" }] }
 *
 * An sftp:// target also names the key to log in with and the server's host key fingerprint.
 */
export const imageListPublishMappingSchema = z
  .object({
    uri_match: z.string().min(1).describe("a prefix of the lists' hv:uri, e.g. https://lists.example.org/"),
    uri_replace: z
      .string()
      .min(1)
      .describe('what the prefix becomes: the upload target, e.g. file:///srv/www/lists/ or sftp://user@host/srv/www/lists/'),
    ssh_private_key_file: z
      .string()
      .min(1)
      .optional()
      .describe('sftp targets: the OpenSSH private key file of the publishing user'),
    ssh_host_key_fingerprint: z
      .string()
      .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'expected "SHA256:" and 43 base64 characters, as ssh-keygen -lf prints')
      .optional()
      .describe("sftp targets: the server's host key (ssh-keygen -lf); a server showing another is refused"),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (!m.uri_replace.startsWith('sftp:')) return;
    for (const key of ['ssh_private_key_file', 'ssh_host_key_fingerprint'] as const)
      if (!m[key]) ctx.addIssue({ code: 'custom', path: [key], message: `required with an sftp:// uri_replace (${m.uri_replace}), got none` });
  });

export const imageListPublishSchema = z.array(imageListPublishMappingSchema);

export type ImageListPublishMapping = z.infer<typeof imageListPublishMappingSchema>;
