// A list that cannot be renewed is told once per reason, even when two renewal runs (the
// schedule's and an `imagecast imagelist renew` by hand) report it at the same moment: real
// PostgreSQL (the advisory lock and the failure rows), the real notifier posting to a real
// webhook receiver, the renewal activity as the worker runs it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { migrate } from '../../../../infra/db/migrate.js';
import { createPool } from '../../../../infra/db/pool.js';
import { EndorserStore } from '../../../../activities/common/imagelist/endorser-store.js';
import { ImageListStore } from '../../../../activities/common/imagelist/list-store.js';
import { createImageListRenewalActivities } from '../../../../activities/common/imagelist/renew-lists.js';
import { createImageListRenewalNotifier } from '../../../../activities/common/notify/imagelist-renewal.js';
import { keyRingMasterKeys } from '../../../../secrets/envelope.js';
import { singleKeyRing } from '../../../../secrets/key-ring.js';
import { makeTestCa } from '../../../support/openssl-ca.js';
import { freshDatabaseUrl, tempDir } from '../../../support/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../support/webhook-receiver.js';

const DN = '/C=DE/O=GermanGrid/OU=Imagecast/CN=Notify Once Endorser/emailAddress=endorser@example.org';

describe('not-renewed notifications: once per list and reason, also for runs at the same moment', () => {
  let pool: pg.Pool;
  let hooks: WebhookReceiver;
  let listId: string;

  before(async () => {
    pool = createPool(await freshDatabaseUrl('notify-once'));
    await migrate(pool);
    hooks = await startWebhookReceiver();
    const ca = makeTestCa(join(tempDir('notify-once'), 'ca'));
    const endorser = ca.issue('endorser', DN);
    const master = keyRingMasterKeys(singleKeyRing(randomBytes(32).toString('base64'), 'test master key'));
    const endorsers = new EndorserStore(pool, () => master, 'test');
    await endorsers.add({
      certificatePem: readFileSync(endorser.certPath, 'utf8'),
      keyPem: readFileSync(endorser.keyPath, 'utf8'),
    });
    listId = (
      await new ImageListStore(pool, endorsers, 'test').add({
        endorserDn: DN,
        metadata: {
          'dc:title': 'Notify once',
          'dc:description': 'A list whose renewal fails',
          'dc:source': 'imagecast',
          'hv:uri': 'https://lists.example.org/once/image.list',
        },
      })
    ).identifier;
  });
  after(async () => {
    await hooks?.close();
    await pool?.end();
  });

  it('two runs reporting the same failure at once send one webhook; a new reason is told again', async () => {
    // Two workers' activities on the same database (each its own notifier, as two processes).
    const activities = () =>
      createImageListRenewalActivities({
        pool,
        masterKeys: () => {
          throw new Error('not needed to notify');
        },
        notifier: createImageListRenewalNotifier({
          webhooks: [{ url: hooks.url('/hooks/lists'), secret: 'notify-once-secret-0123456789' }],
        }),
      });
    const failed = (reason: string) => ({
      runId: 'imagelist-renewal-test',
      lists: [
        {
          identifier: listId,
          title: 'Notify once',
          uri: 'https://lists.example.org/once/image.list',
          version: '0.0.1',
          expiresAt: '2026-12-31T00:00:00Z',
          endorserEmail: 'endorser@example.org',
          reason,
        },
      ],
    });
    const [a, b] = await Promise.all([
      activities().notifyImageListsNotRenewed(failed('sftp: connection refused')),
      activities().notifyImageListsNotRenewed(failed('sftp: connection refused')),
    ]);
    assert.equal(hooks.received.length, 1, 'one webhook for the two runs');
    assert.deepEqual(
      [a.webhooks.length + b.webhooks.length, [...(a.alreadyNotified ?? []), ...(b.alreadyNotified ?? [])]],
      [1, [listId]],
      'one run told, the other found it told',
    );

    await activities().notifyImageListsNotRenewed(failed('sftp: connection refused'));
    assert.equal(hooks.received.length, 1, 'the same reason is not repeated');
    await activities().notifyImageListsNotRenewed(failed('the endorser certificate expired'));
    assert.equal(hooks.received.length, 2, 'a new reason is told');
    assert.match(hooks.received[1]!.body, /certificate expired/);
  });
});
