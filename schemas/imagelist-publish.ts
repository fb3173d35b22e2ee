import { z } from 'zod';
import './zod-messages.js';

/** Object-store target schemes and the cloud whose account writes each. */
export const OBJECT_STORE_CLOUD = { s3: 'ec2', gs: 'gce', 'azure-blob': 'azure' } as const;
export const OBJECT_STORE_SCHEMES = Object.keys(OBJECT_STORE_CLOUD) as Array<keyof typeof OBJECT_STORE_CLOUD>;

/**
 * Where `imagecast imagelist publish` uploads a list, from its public hv:uri: vmcaster's
 * uriMatch/uriReplace. The mapping whose `uri_match` is the longest prefix of hv:uri wins,
 * and that prefix is replaced by `uri_replace`. Read from the CLI config file:
 *
 *   { "imagelist_publish": [{ "uri_match": "https://lists.example.org/", "uri_replace": "file:///srv/www/lists/" }] }
 *
 * An sftp:// target also names the key to log in with and the server's host key fingerprint.
 * An object-store target (s3://BUCKET/…, gs://BUCKET/…, azure-blob://STORAGE_ACCOUNT/CONTAINER/…)
 * names the stored account (of that cloud) whose credentials write it.
 */
export const imageListPublishMappingSchema = z
  .object({
    uri_match: z.string().min(1).describe("a prefix of the lists' hv:uri, e.g. https://lists.example.org/"),
    uri_replace: z
      .string()
      .min(1)
      .describe(
        'what the prefix becomes: the upload target, e.g. file:///srv/www/lists/, sftp://user@host/srv/www/lists/, s3://bucket/lists/, gs://bucket/lists/ or azure-blob://storageaccount/container/lists/',
      ),
    account: z
      .string()
      .min(1)
      .optional()
      .describe('s3, gs and azure-blob targets: the stored account (imagecast account) of that cloud whose credentials write there'),
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
    const objectStore = OBJECT_STORE_SCHEMES.find((s) => m.uri_replace.startsWith(`${s}:`));
    if (objectStore && !m.account)
      ctx.addIssue({
        code: 'custom',
        path: ['account'],
        message: `required with a ${objectStore}:// uri_replace (${m.uri_replace}): the stored ${OBJECT_STORE_CLOUD[objectStore]} account that writes there, got none`,
      });
    if (!m.uri_replace.startsWith('sftp:')) return;
    for (const key of ['ssh_private_key_file', 'ssh_host_key_fingerprint'] as const)
      if (!m[key]) ctx.addIssue({ code: 'custom', path: [key], message: `required with an sftp:// uri_replace (${m.uri_replace}), got none` });
  });

export const imageListPublishSchema = z.array(imageListPublishMappingSchema);

export type ImageListPublishMapping = z.infer<typeof imageListPublishMappingSchema>;
