import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createConnection, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startManagedProcess, type ManagedProcess } from '../../infra/devstack/child-process.js';
import { freePort } from '../../infra/devstack/free-port.js';
import { nonRetryable } from '../common/errors.js';
import type { LaunchTestInstanceInput, ReleaseRef, TestInstance } from '../provider.js';
import { safeSegment, type LocalStore } from './store.js';

const run = promisify(execFile);
export const QEMU = '/usr/bin/qemu-system-x86_64';
/** Where a bootable local image keeps its kernel and initrd (infra/build-demo-image.sh puts them there). */
const KERNEL = '/boot/imagecast-vmlinuz';
const INITRD = '/boot/imagecast-initrd';
const DEFAULT_USER = 'imagecast';

/** The VMs this process runs and their seed servers, by run dir. */
const running = new Map<string, { vm: ManagedProcess; seed: Server }>();

/**
 * A local test instance: the image booted under QEMU (software emulation; KVM with
 * IMAGECAST_QEMU_ACCEL=kvm) with its disk copy-on-write (`snapshot=on`: the image never changes),
 * user-mode networking forwarding a free loopback port to the guest's 22, and a cloud-init
 * NoCloud seed served over HTTP to the guest (10.0.2.2 is the host in QEMU's user network)
 * carrying the ephemeral public key. The kernel and initrd are read out of the image's ext4
 * filesystem with debugfs, so any image built by infra/build-demo-image.sh boots.
 */
export async function launchLocalTestInstance(
  store: LocalStore,
  dataDir: string,
  input: LaunchTestInstanceInput,
): Promise<TestInstance> {
  if (!existsSync(QEMU)) throw nonRetryable('CloudInvalidRequest', `${QEMU} is missing: install Debian's qemu-system-x86 (npm run setup does)`);
  const { release, image } = input;
  const disk = store.imageDisk(release.account, image.region, image.imageId);
  const dir = runDir(dataDir, release);
  // A retried launch (the last attempt's worker died, or its terminate failed) first stops
  // whatever VM the run still has: one run, at most one VM.
  await killRunVms(dataDir, release);
  await mkdir(dir, { recursive: true });
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd');
  for (const [from, to] of [[KERNEL, kernel], [INITRD, initrd]] as const) {
    await run('debugfs', ['-R', `dump ${from} ${to}`, disk]).catch(() => undefined);
    if (!existsSync(to) || (await readFile(to)).length === 0) {
      throw nonRetryable('CloudInvalidRequest', `image ${image.imageId} is not bootable in the local cloud: no ${from} in its ext4 filesystem (build it with infra/build-demo-image.sh)`);
    }
  }
  const user = input.sshUser ?? DEFAULT_USER;
  const instanceId = `vm-${release.releaseToken.slice(0, 8)}-${Date.now().toString(36)}`;
  const seed = await serveSeed(instanceId, user, input.publicKey);
  const sshPort = await freePort();
  // Software emulation by default: a /dev/kvm that is there but unusable (nested
  // virtualisation) hangs QEMU silently. IMAGECAST_QEMU_ACCEL=kvm where KVM is known to work.
  const accel = process.env.IMAGECAST_QEMU_ACCEL || 'tcg';
  const vm = startManagedProcess(
    QEMU,
    [
      '-machine', `q35,accel=${accel}`,
      '-m', '1024',
      '-smp', '2',
      '-kernel', kernel,
      '-initrd', initrd,
      '-append', `root=/dev/vda rw console=ttyS0 net.ifnames=0 ds=nocloud-net;s=http://10.0.2.2:${seed.port}/`,
      '-drive', `file=${disk},format=raw,if=virtio,snapshot=on`,
      '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
      '-device', 'virtio-net-pci,netdev=n0',
      '-display', 'none',
      '-serial', `file:${join(dir, 'console.log')}`,
      // The monitor socket is the power button: test_hard_reboot sends system_reset through it.
      '-monitor', `unix:${monitorSocket(dir)},server,nowait`,
    ],
    join(dir, 'qemu.log'),
    { keepsParentAlive: false },
  );
  running.set(dir, { vm, seed: seed.server });
  // Written at once (not by QEMU once it is up), so a worker that dies now still leaves the
  // saga the pid to stop.
  await writeFile(join(dir, 'qemu.pid'), String(vm.child.pid ?? ''));
  await writeFile(join(dir, 'instance.json'), JSON.stringify({ instanceId, sshPort }));
  return { region: image.region, instanceId, host: '127.0.0.1', port: sshPort, user };
}

/** A power cycle (test_hard_reboot): QEMU's system_reset, the guest gets no warning. */
export async function resetLocalTestInstance(dataDir: string, release: ReleaseRef): Promise<void> {
  const socket = monitorSocket(runDir(dataDir, release));
  await new Promise<void>((resolve, reject) => {
    const monitor = createConnection(socket);
    monitor.once('error', (error) => reject(new Error(`cannot reach the test VM's monitor (${socket}): ${error.message}`)));
    // The monitor greets first; the command is sent once it is listening.
    monitor.once('data', () => monitor.end('system_reset\n', () => resolve()));
  });
}

/** The VM this process started for the run has exited (crashed, killed, powered off): why. */
export async function localTestInstanceGone(dataDir: string, release: ReleaseRef): Promise<string | undefined> {
  const mine = running.get(runDir(dataDir, release));
  if (!mine) return undefined;
  const { exitCode, signalCode } = mine.vm.child;
  if (exitCode === null && signalCode === null) return undefined;
  return `the VM (QEMU) exited with ${signalCode ?? `code ${exitCode}`}`;
}

/** Stops the VM and its seed server; one already gone is fine. */
export async function terminateLocalTestInstance(dataDir: string, release: ReleaseRef, _instance: TestInstance): Promise<void> {
  await killRunVms(dataDir, release);
}

/** The saga's part: any VM of the run (a worker that died mid-test left it running) is stopped. */
export async function killRunVms(dataDir: string, release: ReleaseRef): Promise<void> {
  const dir = runDir(dataDir, release);
  const mine = running.get(dir);
  running.delete(dir);
  mine?.seed.close();
  await mine?.vm.stop('SIGKILL');
  const pid = Number((await readFile(join(dir, 'qemu.pid'), 'utf8').catch(() => '')).trim());
  // Only a QEMU: after a host reboot the pid may belong to something else.
  const cmdline = pid > 0 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
  if (cmdline.startsWith(QEMU)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
  await rm(monitorSocket(dir), { force: true });
}

/** Unix socket paths are limited to 107 bytes, so the socket lives in the temp dir under a name derived from the run dir. */
function monitorSocket(dir: string): string {
  return join(tmpdir(), `imagecast-vm-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.sock`);
}

function runDir(dataDir: string, release: ReleaseRef): string {
  return join(dataDir, 'test-instances', safeSegment('release token', release.releaseToken));
}

/** cloud-init NoCloud: meta-data and user-data (the user, the key, no passwords) over HTTP. */
async function serveSeed(instanceId: string, user: string, publicKey: string): Promise<{ server: Server; port: number }> {
  const userData = [
    '#cloud-config',
    'ssh_pwauth: false',
    'users:',
    `  - name: ${user}`,
    '    shell: /bin/bash',
    "    sudo: 'ALL=(ALL) NOPASSWD:ALL'",
    '    ssh_authorized_keys:',
    `      - ${publicKey}`,
    '',
  ].join('\n');
  const files: Record<string, string> = {
    '/meta-data': `instance-id: ${instanceId}\nlocal-hostname: ${instanceId}\n`,
    '/user-data': userData,
    '/vendor-data': '',
  };
  const server = createServer((req, res) => {
    const body = files[(req.url ?? '').split('?')[0]!];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain' }).end(body ?? '');
  });
  // QEMU's user network reaches the host's loopback as 10.0.2.2.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
