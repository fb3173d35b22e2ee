// Finished release statuses as the workflow's ReleaseStatusBoard leaves them, for notification tests.
import type { ReleaseStatus, StepStatus } from '../../workflows/release-status.js';

const at = (minute: number, second = 0) => new Date(Date.UTC(2025, 0, 2, 10, minute, second)).toISOString();

function steps(overrides: Partial<Record<StepStatus['name'], Partial<StepStatus>>>): StepStatus[] {
  const names: StepStatus['name'][] = [
    'download',
    'upload',
    'create',
    'test',
    'raw_image_upload',
    'replicate',
    'publish',
    'deprecate',
    'cleanup',
  ];
  return names.map((name) => ({ name, state: 'skipped', ...overrides[name] }));
}

export function succeededRelease(overrides: Partial<ReleaseStatus> = {}): ReleaseStatus {
  return {
    releaseId: 'release-demo-20250102',
    cloud: 'ec2',
    account: 'prod',
    imageName: 'demo-v20250102',
    state: 'succeeded',
    steps: steps({
      download: {
        state: 'succeeded',
        startedAt: at(0),
        finishedAt: at(0, 42),
        detail: 'demo 1.0.0-3 from the build service',
      },
      upload: { state: 'succeeded', startedAt: at(1), finishedAt: at(4, 5), detail: 'snap-0abc' },
      create: { state: 'succeeded', startedAt: at(5), finishedAt: at(6), produced: ['ami-1111'] },
      replicate: { state: 'succeeded', startedAt: at(6), finishedAt: at(9, 30), detail: '2 regions' },
      deprecate: {
        state: 'succeeded',
        startedAt: at(10),
        finishedAt: at(10, 3),
        detail: '1 image deprecated',
      },
    }),
    images: [
      { region: 'us-east-1', imageId: 'ami-1111', imageName: 'demo-v20250102' },
      { region: 'eu-central-1', imageId: 'ami-2222', imageName: 'demo-v20250102' },
    ],
    deprecated: [{ region: 'us-east-1', imageId: 'ami-0000', imageName: 'demo-v20241201' }],
    ...overrides,
  };
}

export function failedRelease(overrides: Partial<ReleaseStatus> = {}): ReleaseStatus {
  const error = 'ImageTestFailed: instance i-123 did not boot within 10m';
  return {
    ...succeededRelease(),
    state: 'failed',
    steps: steps({
      download: { state: 'succeeded', startedAt: at(0), finishedAt: at(0, 42) },
      upload: { state: 'succeeded', startedAt: at(1), finishedAt: at(4, 5) },
      create: { state: 'succeeded', startedAt: at(5), finishedAt: at(6) },
      test: { state: 'failed', startedAt: at(6), finishedAt: at(16, 1), detail: error },
    }),
    images: [],
    deprecated: [],
    error,
    ...overrides,
  };
}
