// Renewal of signed image lists on the real dev server: the `imagelist-renewal` Temporal
// Schedule runs renewImageLists on a workflows worker holding the master key; lists are kept in
// a real PostgreSQL, signed with the real openssl and written to file:// and (unreachable)
// sftp:// targets; people are told through a real webhook receiver and SMTP sink.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createPool } from '../../infra/db/pool.js';
import { migrate } from '../../infra/db/migrate.js';
import { ImageCatalog } from '../../activities/common/catalog/catalog.js';
import { EndorserStore } from '../../activities/common/imagelist/endorser-store.js';
import { ImageListStore } from '../../activities/common/imagelist/list-store.js';
import { publishImageList } from '../../activities/common/imagelist/publish-list.js';
import {
  readPublishMappingsFile,
  targetsFrom,
} from '../../activities/common/imagelist/publish-mappings-file.js';
import { verifyImageList } from '../../activities/common/imagelist/verify.js';
import { parseHepixDate } from '../../activities/common/imagelist/hepix-date.js';
import { createImageListRenewalNotifier } from '../../activities/common/notify/imagelist-renewal.js';
import { verifyWebhookSignature } from '../../activities/common/notify/webhook.js';
import { keyRingMasterKeys } from '../../secrets/envelope.js';
import { singleKeyRing } from '../../secrets/key-ring.js';
import { createWorkers } from '../../worker/create-workers.js';
import { ImagecastClient, type ImageListRenewalResult } from '../../client/sdk/index.js';
import { asn1Time, makeTestCa } from '../support/openssl-ca.js';
import { runCli } from '../support/cli-process.js';
import { replayAndRecord } from '../support/replay-history.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';
import { freshDatabaseUrl, tempDir, testTemporalAddress, uniqueQueuePrefix } from '../support/stack.js';

const SECRET = 'renewal-webhook-secret-0123456789';
const DAY = 86_400_000;
const GOOD_DN = '/C=DE/O=GermanGrid/OU=Imagecast/CN=Renewing Endorser/emailAddress=renew@example.org';
const EXPIRED_DN = '/C=DE/O=GermanGrid/OU=Imagecast/CN=Expired Endorser/emailAddress=expired@example.org';

describe('image list renewal (schedule, workers, openssl, webhook)', () => {
  const dir = tempDir('imagelist-renewal');
  const www = join(dir, 'www');
  const mappingsFile = join(dir, 'publish.json');
  let hooks: ReceivedWebhook[];
  let pool: pg.Pool;
  let env: TestWorkflowEnvironment;
  let workers: Worker[];
  let running: Promise<unknown>;
  let client: ImagecastClient;
  let receiver: WebhookReceiver;
  let sink: SmtpSink;
  let lists: ImageListStore;
  let caPath: string;
  let cliEnv: NodeJS.ProcessEnv;
  const id = { due: randomUUID(), fresh: randomUUID(), expiredCert: randomUUID(), unreachable: randomUUID() };

  before(async () => {
    const ca = makeTestCa(join(dir, 'ca'));
    caPath = ca.certPath;
    const now = Date.now();
    const good = ca.issue('good', GOOD_DN, { startDate: asn1Time(new Date(now - 10 * DAY)) });
    const expired = ca.issue('expired', EXPIRED_DN, {
      startDate: asn1Time(new Date(now - 10 * DAY)),
      endDate: asn1Time(new Date(now - DAY)),
    });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'publish_key')]);
    writeFileSync(
      mappingsFile,
      JSON.stringify({
        imagelist_publish: [
          { uri_match: 'https://lists.example.org/', uri_replace: `file://${www}/` },
          // Nothing listens on port 1: the upload fails the way an unreachable server does.
          {
            uri_match: 'https://down.example.org/',
            uri_replace: 'sftp://www@127.0.0.1:1/srv/lists/',
            ssh_private_key_file: join(dir, 'publish_key'),
            ssh_host_key_fingerprint: `SHA256:${'A'.repeat(43)}`,
          },
        ],
      }),
    );

    const databaseUrl = await freshDatabaseUrl('imagelist-renewal');
    pool = createPool(databaseUrl);
    await migrate(pool);
    const masterKey = randomBytes(32).toString('base64');
    const master = keyRingMasterKeys(singleKeyRing(masterKey, 'test master key'));
    const endorsers = new EndorserStore(pool, () => master);
    lists = new ImageListStore(pool, endorsers);
    await endorsers.add({
      certificatePem: readFileSync(good.certPath, 'utf8'),
      keyPem: readFileSync(good.keyPath, 'utf8'),
    });
    // Stored (and its list published) five days ago, while its certificate was valid.
    const fiveDaysAgo = new Date(now - 5 * DAY);
    await new EndorserStore(
      pool,
      () => master,
      'test',
      () => fiveDaysAgo,
    ).add({
      certificatePem: readFileSync(expired.certPath, 'utf8'),
      keyPem: readFileSync(expired.keyPath, 'utf8'),
    });

    const addList = async (
      identifier: string,
      endorserDn: string,
      title: string,
      uri: string,
      lifetimeDays: number,
    ) => {
      await lists.add({
        identifier,
        endorserDn,
        lifetimeDays,
        metadata: {
          'dc:title': title,
          'dc:description': `${title} (renewal test)`,
          'dc:source': 'imagecast',
          'hv:uri': uri,
        },
      });
      await lists.addImage(identifier, {
        'dc:identifier': randomUUID(),
        'dc:title': 'Alpine 3.20',
        'dc:description': 'Alpine 3.20 built by Imagecast',
        'hv:uri': 'https://images.example.org/alpine-3.20.qcow2',
        'hv:size': 1048576,
        'sl:checksum:sha512': 'a'.repeat(128),
        'sl:arch': 'x86_64',
        'sl:os': 'Linux',
        'sl:osversion': '3.20',
        'sl:comments': '',
        'hv:hypervisor': 'kvm',
        'hv:version': '1.0.0',
      });
    };
    const publishAt = async (identifier: string, at: Date) =>
      publishImageList({
        lists,
        endorsers: new EndorserStore(
          pool,
          () => master,
          'test',
          () => at,
        ),
        identifier,
        now: at,
        target: targetsFrom(await readPublishMappingsFile(mappingsFile), mappingsFile),
      });
    await addList(id.due, GOOD_DN, 'Due list', 'https://lists.example.org/due/image.list', 1);
    await publishAt(id.due, new Date(now - 13 * 3_600_000)); // a one-day list, 13 hours old: past half
    await addList(id.fresh, GOOD_DN, 'Fresh list', 'https://lists.example.org/fresh/image.list', 28);
    await publishAt(id.fresh, new Date(now));
    await addList(
      id.expiredCert,
      EXPIRED_DN,
      'Expired endorser list',
      'https://lists.example.org/old/image.list',
      28,
    );
    await publishAt(id.expiredCert, fiveDaysAgo); // expires with its certificate, a day ago
    await addList(id.unreachable, GOOD_DN, 'Unreachable list', 'https://down.example.org/image.list', 1);
    // Published (recorded) 20 hours ago to a server that has gone away since.
    await pool.query(
      `UPDATE imagelists SET version = '0.0.1', published_at = $2, expires_at = $3 WHERE identifier = $1`,
      [id.unreachable, new Date(now - 20 * 3_600_000), new Date(now + 4 * 3_600_000)],
    );

    receiver = await startWebhookReceiver();
    hooks = receiver.received;
    sink = await startSmtpSink();

    const temporalAddress = await testTemporalAddress();
    const queuePrefix = uniqueQueuePrefix('renewal');
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: temporalAddress });
    workers = await createWorkers({
      connection: env.nativeConnection,
      namespace: 'default',
      queuePrefix,
      queues: ['workflows'],
      deps: {
        catalog: new ImageCatalog(pool),
        providers: {},
        imageListRenewal: {
          pool,
          masterKeys: () => master,
          publishMappingsFile: mappingsFile,
          notifier: createImageListRenewalNotifier({
            webhooks: [{ url: receiver.url('/hooks/lists'), secret: SECRET }],
            smtp: { host: sink.host, port: sink.port, from: 'imagecast@test.invalid' },
          }),
        },
      },
      shutdownGraceTime: '2s',
    });
    running = Promise.all(workers.map((w) => w.run()));
    client = await ImagecastClient.connect({ address: temporalAddress, queuePrefix });
    cliEnv = {
      ...process.env,
      IMAGECAST_TEMPORAL_ADDRESS: temporalAddress,
      IMAGECAST_QUEUE_PREFIX: queuePrefix,
      IMAGECAST_DATABASE_URL: databaseUrl,
    };
  });

  after(async () => {
    await client?.schedules.delete('imagelist-renewal').catch(() => undefined);
    for (const w of workers ?? []) if (w.getState() === 'RUNNING') w.shutdown();
    await running?.catch(() => undefined);
    await env?.teardown();
    await client?.close();
    await receiver?.close();
    await sink?.close();
    await pool?.end();
  });

  const statuses = async () => {
    const ran = await runCli(['imagelist', 'list', '--json'], cliEnv);
    assert.equal(ran.status, 0, ran.stderr);
    return Object.fromEntries(
      (JSON.parse(ran.stdout) as Array<{ identifier: string; status: string }>).map((l) => [
        l.identifier,
        l.status,
      ]),
    );
  };

  it('the schedule renews every list past half its lifetime; the others are left alone; lists it cannot renew are reported and notified', async () => {
    const before = await statuses();
    assert.equal(before[id.due], 'expiring', 'a one-day list with 11 hours left is flagged');
    assert.equal(before[id.fresh], 'current');
    assert.equal(before[id.expiredCert], 'expired');
    const fresh = await lists.get(id.fresh);

    const created = await client.imageListRenewal.keepSchedule({ every: '6h' });
    assert.equal(created.created, true);
    assert.equal(created.kind, 'imagelist-renewal');
    const kept = await client.imageListRenewal.keepSchedule({ every: '3h' });
    assert.equal(kept.created, false, 'running it again keeps the one schedule');
    assert.equal(kept.every, '3h');
    assert.ok(
      (await client.schedules.list()).some(
        (s) => s.scheduleId === 'imagelist-renewal' && s.kind === 'imagelist-renewal',
      ),
    );
    await assert.rejects(client.imageListRenewal.keepSchedule({ every: '1d' }), /from 1m to 12h/);

    const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const result = await client.schedules.trigger<ImageListRenewalResult>('imagelist-renewal');
    assert.deepEqual(
      result.renewed.map((l) => l.identifier),
      [id.due],
    );
    assert.deepEqual(
      result.notRenewed.map((l) => l.identifier).sort(),
      [id.expiredCert, id.unreachable].sort(),
    );
    const reason = (identifier: string) => result.notRenewed.find((l) => l.identifier === identifier)!.reason;
    assert.match(reason(id.expiredCert), /expired/);
    assert.match(reason(id.unreachable), /ECONNREFUSED|127\.0\.0\.1:1/);
    assert.deepEqual(result.skipped, []);

    // The renewed list: version bumped, dates moved, and both verifiers accept what was uploaded.
    const renewed = result.renewed[0]!;
    assert.equal(renewed.previousVersion, '0.0.1');
    assert.equal(renewed.version, '0.0.2');
    const created_ = parseHepixDate(renewed.created)!.getTime();
    assert.ok(created_ >= startedAt.getTime(), `created ${renewed.created} is the renewal's time`);
    assert.equal(
      parseHepixDate(renewed.expires)!.getTime() - created_,
      DAY,
      'the list keeps its one-day lifetime',
    );
    const uploaded = readFileSync(join(www, 'due', 'image.list'));
    const verified = await verifyImageList(uploaded, {
      caFile: caPath,
      identifier: id.due,
      previousVersion: '0.0.1',
      now: new Date(),
    });
    assert.deepEqual(verified.problems, []);
    assert.equal(verified.list?.['hv:imagelist']['hv:version'], '0.0.2');
    assert.equal(verified.list?.['hv:imagelist']['dc:date:created'], renewed.created);
    execFileSync(
      'openssl',
      ['smime', '-verify', '-in', join(www, 'due', 'image.list'), '-CAfile', caPath, '-out', '/dev/null'],
      { stdio: 'pipe' },
    );
    const stored = await lists.get(id.due);
    assert.equal(stored.version, '0.0.2');
    assert.equal(stored.publishedAt?.getTime(), created_);
    assert.deepEqual(await lists.get(id.fresh), fresh, 'a list not yet halfway is left alone');

    // Told: one signed webhook naming both lists and why, one email to their endorser.
    assert.deepEqual(result.notified?.webhooks.length, 1);
    assert.equal(hooks.length, 1);
    const hook = hooks[0]!;
    assert.equal(hook.event, 'imagelist.not_renewed');
    assert.ok(verifyWebhookSignature(SECRET, hook.timestamp, hook.body, hook.signature));
    const body = JSON.parse(hook.body) as {
      event: string;
      lists: Array<{ identifier: string; reason: string; title: string }>;
    };
    assert.equal(body.event, 'imagelist.not_renewed');
    assert.deepEqual(body.lists.map((l) => l.identifier).sort(), [id.expiredCert, id.unreachable].sort());
    assert.match(body.lists.find((l) => l.identifier === id.expiredCert)!.reason, /expired/);
    assert.deepEqual(
      sink.messages.map((m) => m.to.sort()),
      [['expired@example.org', 'renew@example.org']],
    );
    assert.match(sink.messages[0]!.data, /Expired endorser list/);

    const afterRun = await statuses();
    assert.equal(afterRun[id.due], 'current', 'a renewed list is no longer flagged');
    assert.equal(afterRun[id.fresh], 'current');
    assert.equal(afterRun[id.expiredCert], 'expired');

    // renewImageLists replays from its real history (kept as a fixture with IMAGECAST_RECORD_HISTORY_DIR).
    const run = (await client.schedules.describe('imagelist-renewal')).lastRunId!;
    await replayAndRecord(client.temporal, run, 'imagelist-renewal');
  });

  it('imagecast imagelist renew renews now what is due: nothing more for the renewed list, the broken ones again (exit 1)', async () => {
    const ran = await runCli(['imagelist', 'renew', '--json'], cliEnv);
    assert.equal(ran.status, 1, ran.stderr);
    const result = JSON.parse(ran.stdout) as ImageListRenewalResult;
    assert.deepEqual(result.renewed, [], 'the renewed list is not due again for 12 hours');
    assert.deepEqual(
      result.notRenewed.map((l) => l.identifier).sort(),
      [id.expiredCert, id.unreachable].sort(),
    );
    const text = await runCli(['imagelist', 'schedule', '--every', '6h'], cliEnv);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^kept schedule imagelist-renewal: every 6h, next run \d{4}-/);
  });
});
