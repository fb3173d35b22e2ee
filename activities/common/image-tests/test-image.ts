import { Context } from '@temporalio/activity';
import type { ImageTestSpec } from '../../../schemas/release-plan.js';
import type { CloudProvider, ImageRef, ReleaseRef } from '../../provider.js';
import { nonRetryable } from '../errors.js';
import { runImageTests, type ImageTestResult } from './run-image-tests.js';
import { ephemeralKeyPair } from './ssh-keys.js';
import type { CloudImageOptions } from '../../../schemas/release-plan.js';

export interface TestImageInput {
  release: ReleaseRef;
  image: ImageRef;
  tests: ImageTestSpec[];
  instanceType?: string;
  sshUser?: string;
  /** The release's cloud specifics, handed to the provider's launch. */
  options?: CloudImageOptions;
}

export interface TestImageOutcome {
  instanceId: string;
  hostKeyFingerprint?: string;
  /** From the launch request to the first SSH login (the boot, as the tests saw it). */
  sshAfterMs?: number;
  results: ImageTestResult[];
}

/** Booting may take minutes on a busy cloud; each test has its own timeout on top. */
const SSH_WAIT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;

export interface TestImageSettings {
  /** How long a test instance may take to answer SSH (boot). */
  sshWaitMs?: number;
  /** How long it may take to answer again after a reboot test; default sshWaitMs. */
  rebootWaitMs?: number;
}

/**
 * The test step's activity: an ephemeral key pair (made here, never stored, never returned),
 * a test instance of the new image with the public key injected, the job's tests over SSH,
 * and — whatever happens, including cancellation — the instance terminated and its key
 * deleted. Failing tests are results, not errors: the workflow decides what they mean.
 */
export async function testImage(provider: CloudProvider, input: TestImageInput, settings: TestImageSettings = {}): Promise<TestImageOutcome> {
  if (!provider.launchTestInstance || !provider.terminateTestInstance) {
    throw nonRetryable('InvalidJob', `$.tests: the ${provider.cloud} cloud cannot boot images for tests yet`);
  }
  const context = Context.current();
  const keys = ephemeralKeyPair(`imagecast-${input.release.releaseToken}`);
  const launchedAt = Date.now();
  const instance = await provider.launchTestInstance({
    release: input.release,
    image: input.image,
    publicKey: keys.publicKey,
    instanceType: input.instanceType,
    sshUser: input.sshUser,
    ...(input.options && { options: input.options }),
  });
  try {
    if (instance.unreachable || !instance.host) {
      const reason = instance.unreachable ?? 'the instance has no address';
      return { instanceId: instance.instanceId, results: input.tests.map((t) => ({ name: t.name, passed: true, durationMs: 0, output: '', skipped: reason })) };
    }
    const ran = await runImageTests(
      { host: instance.host, port: instance.port, user: instance.user, privateKey: keys.privateKey, hostKeyFingerprint: instance.hostKeyFingerprint },
      input.tests,
      {
        sshWaitMs: settings.sshWaitMs ?? SSH_WAIT_MS,
        ...(settings.rebootWaitMs && { rebootWaitMs: settings.rebootWaitMs }),
        commandTimeoutMs: COMMAND_TIMEOUT_MS,
        ...(provider.rebootTestInstance && { hardReboot: () => provider.rebootTestInstance!(input.release, instance) }),
        ...(provider.testInstanceGone && { instanceGone: () => provider.testInstanceGone!(input.release, instance) }),
        onProgress: (what) => context.heartbeat({ instanceId: instance.instanceId, doing: what }),
      },
    ).catch((error: unknown) => {
      // No SSH within the wait, or an impostor host key: the image failed its tests (a retry
      // would boot the same image again), so every test is a failure with the reason.
      const reason = (error as Error).message;
      return { hostKeyFingerprint: undefined, sshReadyAt: undefined, results: input.tests.map((t) => ({ name: t.name, passed: false, durationMs: 0, output: '', error: reason })) };
    });
    return {
      instanceId: instance.instanceId,
      ...(ran.hostKeyFingerprint && { hostKeyFingerprint: ran.hostKeyFingerprint }),
      ...(ran.sshReadyAt && { sshAfterMs: ran.sshReadyAt - launchedAt }),
      results: ran.results,
    };
  } finally {
    await provider.terminateTestInstance(input.release, instance);
  }
}
