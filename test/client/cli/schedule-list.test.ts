// `schedule list` finds every schedule Imagecast made by its memo, whatever its id (--id), and
// still the ones made before the memo (by their default id prefix); a schedule's runs carry a
// static summary for the Web UI. The compiled CLI against the real dev server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ImagecastClient } from '../../../client/sdk/index.js';
import { runCli } from '../../support/cli-process.js';
import { testTemporalAddress, uniqueQueuePrefix } from '../../support/stack.js';

describe('imagecast schedule list', () => {
  let client: ImagecastClient;
  let env: NodeJS.ProcessEnv;
  const tag = randomBytes(3).toString('hex');
  const made: string[] = [];

  before(async () => {
    const address = await testTemporalAddress();
    const queuePrefix = uniqueQueuePrefix('schedule-list');
    client = await ImagecastClient.connect({ address, queuePrefix });
    env = { ...process.env, IMAGECAST_TEMPORAL_ADDRESS: address, IMAGECAST_QUEUE_PREFIX: queuePrefix };
  });
  after(async () => {
    for (const id of made) await client.temporal.schedule.getHandle(id).delete().catch(() => undefined);
    await client?.close();
  });

  /** A schedule made without Imagecast's memo, as older versions (or other tools) made them. */
  const bareSchedule = async (scheduleId: string) => {
    made.push(scheduleId);
    await client.temporal.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1d' }] },
      action: { type: 'startWorkflow', workflowType: 'deprecateImages', args: [{ cloud: 'local', account: 'old', image_line: 'old-{date}', keep: 1 }], taskQueue: 'imagecast-workflows' },
      state: { paused: true },
    });
  };

  it('lists schedules made with --id, and the ones made before by their id prefix, but not foreign ones', async () => {
    const custom = `team-retire-${tag}`;
    made.push(custom);
    const created = await runCli(
      ['schedule', 'deprecate', '--cloud', 'local', '--account', 'test', '--image-line', `line-${tag}-{date}`, '--keep', '2', '--id', custom, '--paused', '--json'],
      env,
    );
    assert.equal(created.status, 0, created.stderr);
    await bareSchedule(`deprecate-legacy-${tag}`);
    await bareSchedule(`foreign-${tag}`);

    const listed = await runCli(['schedule', 'list', '--json'], env);
    assert.equal(listed.status, 0, listed.stderr);
    const ids = (JSON.parse(listed.stdout) as Array<{ scheduleId: string }>).map((s) => s.scheduleId).filter((id) => id.endsWith(tag));
    assert.deepEqual(ids.sort(), [`deprecate-legacy-${tag}`, custom].sort());
    assert.match((await runCli(['schedule', 'list'], env)).stdout, new RegExp(`^${custom}  every 1d  local/test line-${tag}-\\{date\\}  keep 2  paused$`, 'm'));

    // The runs it starts read well in the Web UI's workflow list.
    const description = await client.temporal.schedule.getHandle(custom).describe();
    const action = description.action as { staticSummary?: string };
    assert.equal(action.staticSummary, `retire old images of line-${tag}-{date} · local/test · keep 2`);
  });
});
