/**
 * A local stand-in for the Compute Engine v1 REST API (https://cloud.google.com/compute/docs/reference/rest/v1),
 * for tests that drive the official @google-cloud/compute clients. It imitates images
 * (insert from a rawDisk tarball, checked against a Cloud Storage emulator; get, list,
 * delete, deprecate, setLabels, IAM policy, getFromFamily), zonal instances (insert, get,
 * list, delete, reset, serial port output), global firewalls, and global/zone operations
 * (get, wait), with requestId idempotency and Google's error format. Each module states what
 * it leaves out; nothing is billed, booted or authenticated.
 */
export { startGceComputeFake, type GceComputeFake, type GceComputeFakeOptions } from './server.js';
export type { FaultPlan, FaultSpec, FaultAction } from './faults.js';
export type { FakeState, RequestRecord } from './state.js';
export { METHODS } from './router.js';
