// Renewal of signed image lists on the real dev server: the `imagelist-renewal` Temporal
// Schedule runs renewImageLists on a workflows worker holding the master key; lists are kept in
// a real PostgreSQL, signed with the real openssl and written to file:// and (unreachable)
// sftp:// targets; people are told through a real webhook receiver and SMTP sink, once per list
// and reason (kept in PostgreSQL) until the list is published again.
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
import { RenewalFailures } from '../../activities/common/imagelist/renewal-failures.js';
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
  let master: ReturnType<typeof keyRingMasterKeys>;
  const id = {
    due: randomUUID(),
    fresh: randomUUID(),
    expiredCert: randomUUID(),
    unreachable: randomUUID(),
    oneOff: randomUUID(),
  };
  const unreachableMapping = () => ({
    uri_match: 'https://down.example.org/',
    uri_replace: 'sftp://www@127.0.0.1:1/srv/lists/',
    ssh_private_key_file: join(dir, 'publish_key'),
    ssh_host_key_fingerprint: `SHA256:${'A'.repeat(43)}`,
  });
  /** The workers read the mappings again at each renewal: this is how a target is fixed or broken. */
  const writeMappings = (down: object) =>
    writeFileSync(
      mappingsFile,
      JSON.stringify({
        imagelist_publish: [{ uri_match: 'https://lists.example.org/', uri_replace: `file://${www}/` }, down],
      }),
    );

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
    // Nothing listens on port 1: the upload fails the way an unreachable server does.
    writeMappings(unreachableMapping());

    const databaseUrl = await freshDatabaseUrl('imagelist-renewal');
    pool = createPool(databaseUrl);
    await migrate(pool);
    master = keyRingMasterKeys(singleKeyRing(randomBytes(32).toString('base64'), 'test master key'));
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
    const publishAt = async (identifier: string, at: Date, lifetimeDays?: number) =>
      publishImageList({
        ...(lifetimeDays !== undefined && { lifetimeDays }),
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
    // A 28-day list published once with --lifetime 2, 30 hours ago: past half of its 2 days.
    await addList(
      id.oneOff,
      GOOD_DN,
      'One-off lifetime list',
      'https://lists.example.org/oneoff/image.list',
      28,
    );
    await publishAt(id.oneOff, new Date(now - 30 * 3_600_000), 2);
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
    assert.deepEqual(result.renewed.map((l) => l.identifier).sort(), [id.due, id.oneOff].sort());
    assert.deepEqual(
      result.notRenewed.map((l) => l.identifier).sort(),
      [id.expiredCert, id.unreachable].sort(),
    );
    const reason = (identifier: string) => result.notRenewed.find((l) => l.identifier === identifier)!.reason;
    assert.match(reason(id.expiredCert), /expired/);
    assert.match(reason(id.unreachable), /ECONNREFUSED|127\.0\.0\.1:1/);
    assert.deepEqual(result.skipped, []);

    // The renewed list: version bumped, dates moved, and both verifiers accept what was uploaded.
    const renewed = result.renewed.find((l) => l.identifier === id.due)!;
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

    // The one-off lifetime of the last publish is kept, not the list's own 28 days.
    const oneOff = result.renewed.find((l) => l.identifier === id.oneOff)!;
    assert.equal(oneOff.lifetimeDays, 2);
    assert.equal(
      parseHepixDate(oneOff.expires)!.getTime() - parseHepixDate(oneOff.created)!.getTime(),
      2 * DAY,
      'renewed for the 2 days it was last published for',
    );
    const storedOneOff = await lists.get(id.oneOff);
    assert.deepEqual([storedOneOff.lifetimeDays, storedOneOff.publishedLifetimeDays], [28, 2]);

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

  const notRenewedShown = async () => {
    const ran = await runCli(['imagelist', 'list', '--json'], cliEnv);
    assert.equal(ran.status, 0, ran.stderr);
    const text = await runCli(['imagelist', 'list'], cliEnv);
    assert.equal(text.status, 0, text.stderr);
    const shown = JSON.parse(ran.stdout) as Array<{
      identifier: string;
      notRenewed?: { reason: string; notifiedAt: string | null };
    }>;
    const flagged = text.stdout.split('\n').filter((line) => line.includes('NOT RENEWED since'));
    for (const l of shown)
      assert.equal(
        flagged.some((line) => line.startsWith(l.identifier)),
        Boolean(l.notRenewed),
        `the text flags ${l.identifier} as --json does`,
      );
    return Object.fromEntries(shown.map((l) => [l.identifier, l.notRenewed]));
  };

  it('imagecast imagelist renew renews now what is due: nothing more for the renewed list, the broken ones again (exit 1)', async () => {
    const ran = await runCli(['imagelist', 'renew', '--json'], cliEnv);
    assert.equal(ran.status, 1, ran.stderr);
    const result = JSON.parse(ran.stdout) as ImageListRenewalResult;
    assert.deepEqual(result.renewed, [], 'the renewed list is not due again for 12 hours');
    assert.deepEqual(
      result.notRenewed.map((l) => l.identifier).sort(),
      [id.expiredCert, id.unreachable].sort(),
    );
    // The second failing run for the same reasons tells nobody again, and says so.
    assert.deepEqual(result.notified?.webhooks, []);
    assert.deepEqual(result.notified?.alreadyNotified?.sort(), [id.expiredCert, id.unreachable].sort());
    assert.equal(hooks.length, 1, 'still the one webhook of the first run');
    assert.equal(sink.messages.length, 1, 'still the one email of the first run');
    const textRun = await runCli(['imagelist', 'renew'], cliEnv);
    assert.equal(textRun.status, 1, textRun.stderr);
    assert.match(textRun.stdout, /NOT RENEWED "Expired endorser list"/);
    assert.match(textRun.stdout, /already told \(not again until published or the reason changes\): /);
    assert.doesNotMatch(textRun.stdout, /^told:/m);
    assert.equal(hooks.length, 1);
    // imagecast imagelist list shows the problem all the same.
    const problems = await notRenewedShown();
    assert.match(problems[id.expiredCert]?.reason ?? '', /expired/);
    assert.ok(problems[id.expiredCert]?.notifiedAt, 'told once, and when');
    assert.match(problems[id.unreachable]?.reason ?? '', /ECONNREFUSED|127\.0\.0\.1:1/);
    assert.equal(problems[id.due], undefined);
    const text = await runCli(['imagelist', 'schedule', '--every', '6h'], cliEnv);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^kept schedule imagelist-renewal: every 6h, next run \d{4}-/);
  });

  it('a fixed list is renewed and forgotten; failing again after that tells people again; set lifetime replaces a one-off lifetime', async () => {
    // Fixed: the target of down.example.org answers now (a file:// directory).
    writeMappings({ uri_match: 'https://down.example.org/', uri_replace: `file://${www}/down/` });
    // The lasting choice: 3 days, from the next renewal on; and the list is due again.
    await lists.set(id.oneOff, 'lifetime', '3');
    assert.equal((await lists.get(id.oneOff)).publishedLifetimeDays, undefined);
    const makeDue = (identifier: string, hoursAgo: number, hoursLeft: number) =>
      pool.query('UPDATE imagelists SET published_at = $2, expires_at = $3 WHERE identifier = $1', [
        identifier,
        new Date(Date.now() - hoursAgo * 3_600_000),
        new Date(Date.now() + hoursLeft * 3_600_000),
      ]);
    await makeDue(id.oneOff, 30, 18);

    const fixed = await client.imageListRenewal.renewNow();
    assert.deepEqual(fixed.renewed.map((l) => l.identifier).sort(), [id.oneOff, id.unreachable].sort());
    const oneOff = fixed.renewed.find((l) => l.identifier === id.oneOff)!;
    assert.equal(
      parseHepixDate(oneOff.expires)!.getTime() - parseHepixDate(oneOff.created)!.getTime(),
      3 * DAY,
      'set lifetime 3 applies to the renewal',
    );
    assert.deepEqual(
      fixed.notRenewed.map((l) => l.identifier),
      [id.expiredCert],
    );
    assert.deepEqual(fixed.notified?.alreadyNotified, [id.expiredCert]);
    assert.equal(hooks.length, 1, 'nothing new to tell');
    const afterFix = await notRenewedShown();
    assert.equal(afterFix[id.unreachable], undefined, 'renewed: no longer flagged');
    assert.ok(afterFix[id.expiredCert]);

    // Broken again, and due again: people hear of it again, of that list only.
    writeMappings(unreachableMapping());
    await makeDue(id.unreachable, 20, 4);
    const again = await client.imageListRenewal.renewNow();
    assert.deepEqual(
      again.notRenewed.map((l) => l.identifier).sort(),
      [id.expiredCert, id.unreachable].sort(),
    );
    assert.deepEqual(again.notified?.alreadyNotified, [id.expiredCert]);
    assert.equal(again.notified?.webhooks.length, 1);
    assert.equal(hooks.length, 2, 'told again');
    const body = JSON.parse(hooks[1]!.body) as { lists: Array<{ identifier: string; reason: string }> };
    assert.deepEqual(
      body.lists.map((l) => l.identifier),
      [id.unreachable],
    );
    assert.deepEqual(
      sink.messages.map((m) => m.to.sort()),
      [['expired@example.org', 'renew@example.org'], ['renew@example.org']],
    );
  });

  it('remembers in PostgreSQL whom it told of which reason: a new reason is told again, a publication forgets the list', async () => {
    // A fresh store object, as a restarted worker would have.
    const failures = new RenewalFailures(pool);
    const at = new Date();
    assert.deepEqual(await failures.recordAndFindUntold([{ identifier: id.fresh, reason: 'A' }], at), [
      id.fresh,
    ]);
    await failures.markTold([id.fresh], at);
    const restarted = new RenewalFailures(pool);
    assert.deepEqual(await restarted.recordAndFindUntold([{ identifier: id.fresh, reason: 'A' }], at), []);
    const later = new Date(at.getTime() + 60_000);
    assert.deepEqual(await restarted.recordAndFindUntold([{ identifier: id.fresh, reason: 'B' }], later), [
      id.fresh,
    ]);
    const b = (await restarted.all()).get(id.fresh)!;
    assert.deepEqual([b.reason, b.failingSince.getTime(), b.notifiedAt], ['B', later.getTime(), undefined]);
    // A list deleted since the run began is not kept.
    assert.deepEqual(
      await restarted.recordAndFindUntold([{ identifier: randomUUID(), reason: 'A' }], at),
      [],
    );

    // Published by hand: renewal works for it, the memory goes.
    await publishImageList({
      lists,
      endorsers: new EndorserStore(pool, () => master),
      identifier: id.fresh,
      now: new Date(),
      target: targetsFrom(await readPublishMappingsFile(mappingsFile), mappingsFile),
    });
    assert.equal((await restarted.all()).get(id.fresh), undefined);
  });
});
