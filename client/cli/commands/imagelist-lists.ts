import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { sha512OfFile } from '../../../activities/common/imagelist/image-files.js';
import type { StoredImageList } from '../../../activities/common/imagelist/list-document.js';
import { EXPIRING_WITHIN_DAYS } from '../../../activities/common/imagelist/list-expiry.js';
import { hepixValue } from '../../../activities/common/imagelist/list-keys.js';
import { RenewalFailures } from '../../../activities/common/imagelist/renewal-failures.js';
import { ImageListInputError } from '../../../activities/common/imagelist/store-errors.js';
import { positiveInteger } from '../option-parsers.js';
import {
  keyValuePairs,
  runOnStores,
  storeCommand,
  type ImageListStores,
  type StoreFlags,
} from '../imagelist-stores.js';
import { UsageError } from '../store-connection.js';
import { listJson, showText, summaryText } from './imagelist-list-view.js';

/**
 * `imagecast imagelist add|list|show|delete|set|unset` and `imagecast imagelist image
 * add|set|unset|remove`: the lists Imagecast publishes, kept in PostgreSQL (vmcaster's
 * --imagelist-* and --image-* verbs). Every change is checked; a refusal names the key,
 * what was expected and what was given.
 */
export function registerLists(imagelist: Command): void {
  storeCommand(imagelist.command('add'))
    .description('store a new list, signed later by a stored endorser')
    .argument('[key=value...]', 'more keys of the list, such as ad:vo=vo.example.org')
    .option('--endorser <dn>', 'the stored endorser that signs it (default: the only one stored)')
    .requiredOption('--title <text>', 'dc:title')
    .requiredOption('--uri <url>', 'hv:uri: where the list is published (and subscribers fetch it)')
    .option('--description <text>', 'dc:description', '')
    .option('--source <text>', "dc:source (default: hv:uri's host)")
    .option('--identifier <uuid>', 'dc:identifier (default: a new UUID); fixed for the life of the list')
    .option(
      '--lifetime <days>',
      'days each publication is valid (capped at the certificate)',
      positiveInteger(28),
      28,
    )
    .addHelpText(
      'after',
      `
The list starts at hv:version 0.0.0 with no images; publish makes it 0.0.1.
Exit codes: 0 stored, 1 no such endorser, 2 refused (every problem named) or bad usage.

Example:
  imagecast imagelist add --title "Imagecast images" --uri https://lists.example.org/imagecast/image.list ad:vo=vo.example.org`,
    )
    .action((pairs: string[], flags: StoreFlags & AddFlags) =>
      runOnStores(
        flags,
        async (stores) => listJson(await addList(stores, pairs, flags), new Date()),
        (l) => `added ${summaryText(l)}`,
      ),
    );

  storeCommand(imagelist.command('list'))
    .description(
      `list the stored lists; flags those expired or expiring (within ${EXPIRING_WITHIN_DAYS} days, or half their lifetime if shorter)`,
    )
    .addHelpText(
      'after',
      '\n--json gives each list\'s "status": unpublished, current, expiring or expired, and "daysLeft"; a list the\nrenewal could not publish again has "notRenewed": {"reason", "failingSince", "lastFailedAt", "notifiedAt"}\n(NOT RENEWED in the text), until it is published again.\n\nExample:\n  imagecast imagelist list',
    )
    .action((flags: StoreFlags) =>
      runOnStores(
        flags,
        async ({ lists, pool }) => {
          const failures = await new RenewalFailures(pool).all();
          return (await lists.list()).map((l) => listJson(l, new Date(), failures.get(l.identifier)));
        },
        (all) => all.map((l) => summaryText(l)).join('\n') || 'no image lists',
      ),
    );

  storeCommand(imagelist.command('show'))
    .description('show one list: its keys, endorser, version, dates and images')
    .argument('<id>', "the list's dc:identifier")
    .addHelpText('after', '\nExample:\n  imagecast imagelist show 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b')
    .action((id: string, flags: StoreFlags) =>
      runOnStores(
        flags,
        async ({ lists, pool }) => {
          const list = await lists.get(id);
          return listJson(list, new Date(), (await new RenewalFailures(pool).all()).get(list.identifier));
        },
        showText,
      ),
    );

  storeCommand(imagelist.command('delete'))
    .description('delete a stored list and its images (what is published stays where it is)')
    .argument('<id>', "the list's dc:identifier")
    .addHelpText('after', '\nExample:\n  imagecast imagelist delete 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b')
    .action((id: string, flags: StoreFlags) =>
      runOnStores(
        flags,
        async ({ lists }) => {
          await lists.remove(id);
          return { deleted: id };
        },
        (r) => `deleted image list ${r.deleted}`,
      ),
    );

  storeCommand(imagelist.command('set'))
    .description('set a key of a list (dc:title, hv:uri, ad:vo, …), or its endorser or lifetime')
    .argument('<id>', "the list's dc:identifier")
    .argument('<key>', 'a HEPiX key, or endorser (a stored DN), or lifetime (days)')
    .argument('<value>', 'the new value')
    .addHelpText(
      'after',
      '\nExample:\n  imagecast imagelist set 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b dc:title "Imagecast images"',
    )
    .action((id: string, key: string, value: string, flags: StoreFlags) =>
      runOnStores(
        flags,
        async ({ lists }) => listJson(await lists.set(id, key, value), new Date()),
        (l) => `set ${key} of ${summaryText(l)}`,
      ),
    );

  storeCommand(imagelist.command('unset'))
    .description('remove an optional key of a list (a required one is refused)')
    .argument('<id>', "the list's dc:identifier")
    .argument('<key>', 'a HEPiX key, such as ad:vo')
    .addHelpText(
      'after',
      '\nExample:\n  imagecast imagelist unset 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b ad:vo',
    )
    .action((id: string, key: string, flags: StoreFlags) =>
      runOnStores(
        flags,
        async ({ lists }) => listJson(await lists.unset(id, key), new Date()),
        (l) => `unset ${key} of ${summaryText(l)}`,
      ),
    );

  registerImages(imagelist);
}

interface AddFlags {
  endorser?: string;
  title: string;
  uri: string;
  description: string;
  source?: string;
  identifier?: string;
  lifetime: number;
}

async function addList(stores: ImageListStores, pairs: string[], flags: AddFlags): Promise<StoredImageList> {
  const extra = Object.fromEntries(keyValuePairs(pairs));
  const endorserDn = flags.endorser ?? (await onlyEndorser(stores));
  const source = flags.source ?? (URL.canParse(flags.uri) ? new URL(flags.uri).host : '');
  return stores.lists.add({
    endorserDn,
    lifetimeDays: flags.lifetime,
    ...(flags.identifier !== undefined && { identifier: flags.identifier }),
    metadata: {
      'dc:title': flags.title,
      'dc:description': flags.description,
      'dc:source': source,
      'hv:uri': flags.uri,
      ...extra,
    },
  });
}

async function onlyEndorser({ endorsers }: ImageListStores): Promise<string> {
  const dns = await endorsers.dns();
  if (dns.length === 1) return dns[0]!;
  throw new UsageError(
    dns.length === 0
      ? '--endorser: no endorser is stored; add one with imagecast imagelist endorser add --cert CERT --key KEY'
      : `--endorser: required, as ${dns.length} endorsers are stored (${dns.join(', ')})`,
  );
}

function registerImages(imagelist: Command): void {
  const image = imagelist
    .command('image')
    .description('the images of a stored list')
    .addHelpText('after', '\nExample:\n  imagecast imagelist image set LIST_ID IMAGE_ID hv:version 1.0.1');

  storeCommand(image.command('add'))
    .description('add an image to a list; every required key must be given')
    .argument('<list>', "the list's dc:identifier")
    .argument(
      '[key=value...]',
      'the hv:image keys, such as dc:title="Alpine 3.20" hv:uri=https://… sl:arch=x86_64',
    )
    .option(
      '--identifier <uuid>',
      'dc:identifier (default: a new UUID); keep it for later versions of the image',
    )
    .option('--file <path>', 'the image file exactly as served: sets hv:size and sl:checksum:sha512 from it')
    .addHelpText(
      'after',
      `
Required keys: dc:title, dc:description, hv:uri, hv:size, sl:checksum:sha512, sl:arch, sl:os,
sl:osversion, sl:comments, hv:hypervisor, hv:version (vmcatcher drops an image lacking one).
Optional: hv:format, sl:osname, hv:ram_minimum, hv:core_minimum, dc:date:expires, ad:* keys.
Exit codes: 0 added, 1 no such list, 2 refused (every problem named) or bad usage.

Example:
  imagecast imagelist image add LIST_ID --file alpine-3.20-x86_64.qcow2 dc:title="Alpine 3.20" \\
    dc:description="Alpine 3.20 built by Imagecast" hv:uri=https://images.example.org/alpine-3.20-x86_64.qcow2 \\
    sl:arch=x86_64 sl:os=Linux sl:osname=Alpine sl:osversion=3.20 sl:comments= hv:hypervisor=kvm \\
    hv:format=qcow2 hv:version=1.0.0`,
    )
    .action((list: string, pairs: string[], flags: StoreFlags & { identifier?: string; file?: string }) =>
      runOnStores(
        flags,
        async ({ lists }) => {
          const keys = Object.fromEntries(keyValuePairs(pairs).map(([k, v]) => [k, hepixValue(k, v)]));
          const fromFile = flags.file ? await fileKeys(flags.file) : {};
          const identifier = flags.identifier ?? keys['dc:identifier'] ?? randomUUID();
          return listJson(
            await lists.addImage(list, { 'dc:identifier': identifier, ...fromFile, ...keys }),
            new Date(),
          );
        },
        (l) => `added an image to ${summaryText(l)}`,
      ),
    );

  storeCommand(image.command('set'))
    .description('set a key of an image')
    .argument('<list>', "the list's dc:identifier")
    .argument('<image>', "the image's dc:identifier")
    .argument('<key>', 'a HEPiX image key, such as hv:uri')
    .argument('<value>', 'the new value (a whole number for hv:size)')
    .addHelpText('after', '\nExample:\n  imagecast imagelist image set LIST_ID IMAGE_ID hv:version 1.0.1')
    .action((list: string, imageId: string, key: string, value: string, flags: StoreFlags) =>
      runOnStores(
        flags,
        async ({ lists }) => listJson(await lists.setImageKey(list, imageId, key, value), new Date()),
        (l) => `set ${key} of image ${imageId} in ${summaryText(l)}`,
      ),
    );

  storeCommand(image.command('unset'))
    .description('remove an optional key of an image (a required one is refused)')
    .argument('<list>', "the list's dc:identifier")
    .argument('<image>', "the image's dc:identifier")
    .argument('<key>', 'a HEPiX image key, such as hv:format')
    .addHelpText('after', '\nExample:\n  imagecast imagelist image unset LIST_ID IMAGE_ID hv:format')
    .action((list: string, imageId: string, key: string, flags: StoreFlags) =>
      runOnStores(
        flags,
        async ({ lists }) => listJson(await lists.setImageKey(list, imageId, key, undefined), new Date()),
        (l) => `unset ${key} of image ${imageId} in ${summaryText(l)}`,
      ),
    );

  storeCommand(image.command('remove'))
    .description('remove an image from a list (subscribers expire it at the next publication)')
    .argument('<list>', "the list's dc:identifier")
    .argument('<image>', "the image's dc:identifier")
    .addHelpText('after', '\nExample:\n  imagecast imagelist image remove LIST_ID IMAGE_ID')
    .action((list: string, imageId: string, flags: StoreFlags) =>
      runOnStores(
        flags,
        async ({ lists }) => listJson(await lists.removeImage(list, imageId), new Date()),
        (l) => `removed image ${imageId} from ${summaryText(l)}`,
      ),
    );
}

async function fileKeys(path: string): Promise<Record<string, unknown>> {
  try {
    const { sha512, size } = await sha512OfFile(path);
    return { 'hv:size': size, 'sl:checksum:sha512': sha512 };
  } catch (error) {
    throw new ImageListInputError([
      `--file: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    ]);
  }
}
