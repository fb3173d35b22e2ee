import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { EndorserSummary } from '../../../activities/common/imagelist/endorser-store.js';
import { runOnStores, storeCommand, type StoreFlags } from '../imagelist-stores.js';
import { STORE_ENVIRONMENT, UsageError } from '../store-connection.js';

/**
 * `imagecast imagelist endorser add|list|show|delete`: the certificates stored lists are
 * signed with (vmcaster's --endorser-*). The key is sealed with the master key, as account
 * credentials are, and never printed.
 */
export function registerEndorser(imagelist: Command): void {
  const endorser = imagelist
    .command('endorser')
    .description('endorsers: the certificates (and sealed keys) stored lists are signed with')
    .addHelpText(
      'after',
      `\nEnvironment: ${STORE_ENVIRONMENT}.\n\nExample:\n  imagecast imagelist endorser list`,
    );

  storeCommand(endorser.command('add'))
    .description(
      'store an endorser certificate and its private key (sealed); its DN and CA come from the certificate',
    )
    .requiredOption('--cert <file>', 'the endorser certificate (PEM): keyUsage digitalSignature, valid now')
    .requiredOption(
      '--key <file>',
      "the certificate's private key (PEM, unencrypted); stored sealed with the master key",
    )
    .option('--email <address>', "hv:email; default: the certificate's e-mail address")
    .option('--creator <name>', "dc:creator; default: the certificate's CN")
    .option('--replace', 'replace the stored certificate and key of the same DN (a renewed certificate)')
    .addHelpText(
      'after',
      `
The certificate is refused, as sign refuses it, when it lacks keyUsage digitalSignature, has an
extendedKeyUsage without emailProtection, is expired or not yet valid, or the key is not its own.
Exit codes: 0 stored, 2 refused (every problem named) or bad usage.

Example:
  imagecast imagelist endorser add --cert endorser.pem --key endorser.key`,
    )
    .action(
      (
        flags: StoreFlags & {
          cert: string;
          key: string;
          email?: string;
          creator?: string;
          replace?: boolean;
        },
      ) =>
        runOnStores(
          flags,
          async ({ endorsers }) =>
            endorsers.add({
              certificatePem: await readText(flags.cert, '--cert'),
              keyPem: await readText(flags.key, '--key'),
              ...(flags.email !== undefined && { email: flags.email }),
              ...(flags.creator !== undefined && { creator: flags.creator }),
              replace: Boolean(flags.replace),
            }),
          (e) => `${flags.replace ? 'stored (replacing)' : 'added'} endorser ${describe(e)}`,
        ),
    );

  storeCommand(endorser.command('list'))
    .description('list the stored endorsers (never a key)')
    .addHelpText('after', '\nExample:\n  imagecast imagelist endorser list --json')
    .action((flags: StoreFlags) =>
      runOnStores(
        flags,
        ({ endorsers }) => endorsers.list(),
        (all) => all.map(describe).join('\n') || 'no endorsers',
      ),
    );

  storeCommand(endorser.command('show'))
    .description('show one endorser: names, e-mail, expiry, the lists it signs')
    .argument('<dn>', 'the certificate subject, in OpenSSL one-line form (as endorser list prints it)')
    .addHelpText('after', "\nExample:\n  imagecast imagelist endorser show '/C=DE/O=GermanGrid/CN=Jane Doe'")
    .action((dn: string, flags: StoreFlags) =>
      runOnStores(flags, ({ endorsers }) => endorsers.describe(dn), showText),
    );

  storeCommand(endorser.command('delete'))
    .description('delete an endorser and its sealed key (refused while a list names it)')
    .argument('<dn>', 'the certificate subject, in OpenSSL one-line form')
    .addHelpText(
      'after',
      "\nExit codes: 0 deleted, 1 no such endorser, 2 a list still names it.\n\nExample:\n  imagecast imagelist endorser delete '/C=DE/O=GermanGrid/CN=Jane Doe'",
    )
    .action((dn: string, flags: StoreFlags) =>
      runOnStores(
        flags,
        async ({ endorsers }) => {
          await endorsers.remove(dn);
          return { deleted: dn };
        },
        (r) => `deleted endorser ${r.deleted}`,
      ),
    );
}

function describe(e: EndorserSummary): string {
  return `${e.dn} (issuer ${e.ca}), ${e.email}, certificate expires ${e.notAfter}, ${e.lists.length} list(s), key sealed with master key ${e.keyId}`;
}

function showText(e: EndorserSummary): string {
  return [
    `endorser ${e.dn}`,
    `  hv:ca: ${e.ca}`,
    `  hv:email: ${e.email}`,
    `  dc:creator: ${e.creator}`,
    `  certificate expires: ${e.notAfter}`,
    `  key: stored, sealed with master key ${e.keyId}`,
    `  lists: ${e.lists.join(', ') || 'none'}`,
  ].join('\n');
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}
