import type { Command } from 'commander';
import { uploadImageFile } from '../../../activities/common/imagelist/upload-image.js';
import { runOnStores, storeCommand, type StoreFlags } from '../imagelist-stores.js';
import { withObjectWriters } from '../publish-object-writers.js';
import { publishMappings, publishTarget } from './imagelist-publish.js';

/** `imagecast imagelist image upload LIST IMAGE FILE`: vmcaster's --upload-image. */
export function registerImageUpload(imagelist: Command): void {
  const image = imagelist.commands.find((c) => c.name() === 'image');
  if (!image) throw new Error('internal: register the image commands first');
  storeCommand(image.command('upload'))
    .description(
      'stream an image file to where its hv:uri is served from, and set hv:size and sl:checksum:sha512 from that read',
    )
    .argument('<list>', "the list's dc:identifier")
    .argument('<image>', "the image's dc:identifier")
    .argument('<file>', 'the file exactly as it is served (compressed if served compressed)')
    .addHelpText(
      'after',
      `
The target comes from the image's hv:uri by the same "imagelist_publish" mappings as publish (file://,
sftp://, s3://, gs://, azure-blob://; see imagecast imagelist publish --help). The file is read once:
streamed to the target (never staged) and hashed on the way. Publish the list afterwards to sign the
new size and sha512.
Exit codes: 0 uploaded, 1 no such list or image or the upload failed, 2 refused or bad usage.

Example:
  imagecast imagelist image upload LIST_ID IMAGE_ID alpine-3.20-x86_64.qcow2 && imagecast imagelist publish LIST_ID`,
    )
    .action((list: string, imageId: string, file: string, flags: StoreFlags) =>
      runOnStores(
        flags,
        (stores) => {
          const mappings = publishMappings();
          return withObjectWriters(stores.pool, (objectWriters) =>
            uploadImageFile({
              lists: stores.lists,
              identifier: list,
              imageId,
              file,
              target: (publicUri) => publishTarget(publicUri, mappings, objectWriters),
            }),
          );
        },
        (u) =>
          `uploaded ${file} (${u.size} bytes, sha512 ${u.sha512.slice(0, 16)}…) to ${u.target} (served at ${u.uri}); publish the list to sign it`,
      ),
    );
}
