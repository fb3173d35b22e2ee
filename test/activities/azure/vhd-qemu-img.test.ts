// The page blob the Azure upload leaves, read by a tool that is not ours: QEMU's `vpc` driver
// (qemu-img, Debian's qemu-utils, installed by infra/install.sh) must take the downloaded blob
// as a fixed VHD of the size our footer claims, holding the source disk byte for byte. The
// footer's bytes against the VHD specification are checked in vhd-footer.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../../infra/devstack/azurite.js';
import { transferImage } from '../../../activities/common/transfer/transfer-image.js';
import { openPageBlobWriter } from '../../../activities/azure/page-blob-writer.js';
import { paddedVhdDiskSize, vhdGeometry } from '../../../activities/common/transfer/vhd-footer.js';
import type { ResolvedImageSource } from '../../../activities/provider.js';
import { tempDir } from '../../support/stack.js';

const KiB = 1024;
const MiB = 1024 ** 2;
const run = promisify(execFile);
const work = tempDir('azure-vhd-qemu');

/**
 * 28 MiB (a whole MiB, so the VHD is the disk and its footer, no padding): data, two zero
 * blocks (never sent), a block with a 1 MiB hole, and data up to the very last byte, where a
 * reader that takes the VHD for a smaller disk loses it (a GPT's backup header lives there).
 */
function diskWithHoles(): Buffer {
  const zero = (n: number) => Buffer.alloc(n);
  return Buffer.concat([
    randomBytes(4 * MiB),
    zero(8 * MiB),
    randomBytes(MiB),
    zero(MiB),
    randomBytes(2 * MiB - 4 * KiB),
    zero(4 * KiB),
    zero(8 * MiB),
    randomBytes(4 * MiB),
  ]);
}

/** qemu's vpc driver, told to size the disk by the footer's Current Size, as Azure does. */
const vpcByCurrentSize = (path: string) => `driver=vpc,force_size_calc=current_size,file.filename=${path}`;

async function qemuImg(...args: string[]): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await run('qemu-img', args);
    return { stdout, code: 0 };
  } catch (error) {
    const failed = error as NodeJS.ErrnoException & { stdout?: string; code?: number | string };
    if (failed.code === 'ENOENT')
      throw new Error('qemu-img is missing: run `bash infra/install.sh` (qemu-utils)');
    return { stdout: failed.stdout ?? '', code: typeof failed.code === 'number' ? failed.code : -1 };
  }
}

describe('azure upload: the VHD as qemu-img reads it', () => {
  let azurite: Azurite;
  let disk: Buffer;
  const raw = join(work, 'source.raw');
  const vhd = join(work, 'blob.vhd');

  before(async () => {
    azurite = await startAzurite({ logFile: join(work, 'azurite.log') });
    const container = new BlobServiceClient(
      azurite.blobEndpoint,
      new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
    ).getContainerClient('imagecast-images');
    await container.create();
    disk = diskWithHoles();
    writeFileSync(raw, disk);
    const source: ResolvedImageSource = {
      url: pathToFileURL(raw).href,
      fileName: 'source.raw',
      compression: 'none',
      checksum: { algorithm: 'sha256', hex: createHash('sha256').update(disk).digest('hex') },
    };
    const writer = await openPageBlobWriter(
      container,
      {
        release: {
          releaseId: 'vhd-qemu-img',
          releaseToken: randomUUID(),
          cloud: 'azure',
          account: 'test-azure',
        },
        region: 'westeurope',
        checksum: source.checksum,
        resumeFromOffset: 0,
        diskSizeBytes: disk.length,
      },
      { blobName: 'qemu.vhd', forceReplace: false },
    );
    await transferImage({ source, writer });
    await container.getPageBlobClient('qemu.vhd').downloadToFile(vhd);
  });
  after(async () => {
    await azurite?.stop();
  });

  it('is a vpc image whose virtual size is the padded disk size the footer claims', async () => {
    assert.equal(statSync(vhd).size, paddedVhdDiskSize(disk.length) + 512, 'the disk and its footer');
    const { stdout, code } = await qemuImg('info', '--output=json', '--image-opts', vpcByCurrentSize(vhd));
    assert.equal(code, 0);
    const info = JSON.parse(stdout) as { format: string; 'virtual-size': number };
    assert.equal(info.format, 'vpc');
    assert.equal(info['virtual-size'], paddedVhdDiskSize(disk.length));
  });

  it('holds the source disk: qemu-img compare finds them identical, and converting back gives its bytes', async () => {
    const compared = await qemuImg(
      'compare',
      '--image-opts',
      `driver=raw,file.filename=${raw}`,
      vpcByCurrentSize(vhd),
    );
    assert.equal(compared.code, 0, `qemu-img compare: ${compared.stdout}`);
    assert.match(compared.stdout, /Images are identical/);

    const back = join(work, 'back.raw');
    const converted = await qemuImg('convert', '--image-opts', vpcByCurrentSize(vhd), '-O', 'raw', back);
    assert.equal(converted.code, 0);
    assert.ok(readFileSync(back).equals(disk), 'the disk, byte for byte (it is a whole MiB: no padding)');
  });

  it("is read by qemu's default for an unknown creator (CHS geometry) as a smaller disk, missing its tail", async () => {
    // qemu trusts Current Size only for the creators it knows (Hyper-V "win ", "qem2", disk2vhd,
    // Xen); ours ("imgc") gets the CHS size, which the spec's geometry rounds down. Azure uses
    // Current Size, so this matters only to someone reading a downloaded VHD with qemu-img.
    const { cylinders, heads, sectorsPerTrack } = vhdGeometry(paddedVhdDiskSize(disk.length));
    const chsSize = cylinders * heads * sectorsPerTrack * 512;
    assert.ok(chsSize < disk.length);
    const { stdout } = await qemuImg('info', '--output=json', '-f', 'vpc', vhd);
    assert.equal((JSON.parse(stdout) as { 'virtual-size': number })['virtual-size'], chsSize);
    const compared = await qemuImg('compare', '-f', 'raw', '-F', 'vpc', raw, vhd);
    assert.equal(
      compared.code,
      1,
      `the last ${disk.length - chsSize} bytes are not seen: ${compared.stdout}`,
    );
  });
});
