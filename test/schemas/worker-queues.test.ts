import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { workerConfigSchema, workerConfigFromEnv } from '../../schemas/config.js';
import { servedTaskQueues, WORKER_QUEUES } from '../../schemas/worker-queues.js';

const suffixes = (queues: Parameters<typeof servedTaskQueues>[0]) =>
  servedTaskQueues(queues).map((q) => `${q.suffix}:${q.role}`);

describe('worker queues', () => {
  it('a cloud alone serves both its task queues (as before the split); -calls and -upload serve one each', () => {
    assert.deepEqual(suffixes(['workflows', 'local']), [
      'workflows:workflows',
      'local:calls',
      'local-upload:upload',
    ]);
    assert.deepEqual(suffixes(['ec2']), ['ec2:calls', 'ec2-upload:upload']);
    assert.deepEqual(suffixes(['ec2-calls']), ['ec2:calls']);
    assert.deepEqual(suffixes(['gce-upload']), ['gce-upload:upload']);
    // Overlapping names serve each task queue once.
    assert.deepEqual(suffixes(['azure-upload', 'azure', 'azure-calls']), [
      'azure-upload:upload',
      'azure:calls',
    ]);
  });

  it('accepts every cloud in three forms, and the upload slots from IMAGECAST_UPLOAD_SLOTS (default 2)', () => {
    for (const cloud of ['local', 'ec2', 'gce', 'azure'])
      for (const name of [cloud, `${cloud}-calls`, `${cloud}-upload`])
        assert.ok(WORKER_QUEUES.includes(name as never), name);
    const base = { databaseUrl: 'postgres://x/y' };
    assert.equal(workerConfigSchema.parse(base).uploadSlots, 2);
    const fromEnv = workerConfigFromEnv({
      IMAGECAST_UPLOAD_SLOTS: '3',
      IMAGECAST_QUEUES: 'ec2-upload, ec2-calls',
    });
    const config = workerConfigSchema.parse({ ...fromEnv, ...base });
    assert.equal(config.uploadSlots, 3);
    assert.deepEqual(config.queues, ['ec2-upload', 'ec2-calls']);
    const zero = workerConfigSchema.safeParse({ ...base, uploadSlots: '0' });
    assert.deepEqual(
      zero.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      ['uploadSlots: must be at least 1'],
    );
  });

  it('refuses an unknown queue, naming the field, the names it takes and the one given', () => {
    const parsed = workerConfigSchema.safeParse({
      databaseUrl: 'postgres://x/y',
      queues: ['workflows', 'ec2-uploads'],
    });
    const issues = parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.deepEqual(issues, [
      `queues.1: expected one of ${WORKER_QUEUES.map((q) => `"${q}"`).join(', ')}, got string "ec2-uploads" (did you mean "ec2-upload"?)`,
    ]);
    assert.match(
      issues![0]!,
      /"workflows", "local", "local-calls", "local-upload", "ec2", "ec2-calls", "ec2-upload", "gce"/,
    );
  });
});
