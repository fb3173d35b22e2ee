/**
 * A local stand-in for Azure Resource Manager over HTTPS, for tests that drive the real SDK
 * clients (@azure/arm-resources ResourceManagementClient, @azure/arm-compute
 * ComputeManagementClient, @azure/arm-network NetworkManagementClient). It imitates resource
 * groups (https://learn.microsoft.com/rest/api/resources/resource-groups), managed images
 * (https://learn.microsoft.com/rest/api/compute/images), managed disks and snapshots with
 * CopyStart across regions (https://learn.microsoft.com/rest/api/compute/disks,
 * …/snapshots), Compute Galleries, their sharing,
 * image definitions and versions with per-region replication
 * (https://learn.microsoft.com/rest/api/compute/galleries, …/gallery-sharing-profile,
 * …/gallery-images, …/gallery-image-versions), virtual networks, NSGs, public IPs and NICs
 * (https://learn.microsoft.com/rest/api/virtualnetwork/), and virtual machines that boot
 * nothing (https://learn.microsoft.com/rest/api/compute/virtual-machines), with ARM's async
 * operations (https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations)
 * and error format. Each module states what it leaves out; nothing is authenticated.
 *
 * Use it with a static TokenCredential and, per client:
 * `{ endpoint: fake.endpoint, credentialScopes: ['https://management.azure.com/.default'],
 *    additionalPolicies: [{ policy: trustCaPolicy(fake.caPem), position: 'perCall' }] }`.
 *
 * Polling speed: the fake answers `Retry-After: 0`, which @azure/core-lro 2.7 ignores (it
 * keeps its interval when the header is 0), so pass `updateIntervalInMs` to every
 * `begin…`/`begin…AndWait` call (e.g. `{ updateIntervalInMs: 10 }`); without it the poller
 * waits 2 s between polls. Throttling: an http fault with status 429 answers `Retry-After:
 * retryAfterSeconds` (default 0), which the SDK's default retry policy honours up to 3 retries.
 */
export { startArmFake, type ArmFake, type ArmFakeOptions } from './server.js';
export type { FaultPlan, FaultSpec, FaultAction } from './faults.js';
export type { ArmFakeState, RequestRecord, Json } from './state.js';
export { OPERATIONS } from './router.js';
