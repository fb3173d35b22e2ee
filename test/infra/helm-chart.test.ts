// The Helm chart (infra/helm/imagecast), checked offline: rendered with `helm template` for the
// default values and for every optional part on (ci/all-clouds-values.yaml), validated by
// `kubeconform -strict` against Kubernetes' and KEDA's schemas from local files, and read
// object by object; a misspelt field must make the validation fail, naming the field.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  helm,
  chartDir,
  k8sTools,
  renderChart,
  validateManifests,
  type K8sObject,
  type Validation,
} from '../support/k8s-tools.js';
import {
  assertNoInlineSecrets,
  envOf,
  find,
  names,
  podLabels,
  podSpec,
  render,
  triggers,
  type PodSpec,
} from '../support/k8s-objects.js';
import { imageListPublishSchema } from '../../schemas/imagelist-publish.js';

const CLOUDS = ['ec2', 'gce', 'azure'] as const;
const ALL_CLOUDS = 'ci/all-clouds-values.yaml';

function assertAllValid(validation: Validation, expected: number): void {
  const bad = validation.resources.filter((r) => r.status !== 'statusValid');
  assert.deepEqual(bad, [], JSON.stringify(bad, null, 1));
  assert.equal(validation.summary.valid, expected);
  assert.equal(validation.status, 0);
}

/**
 * Worker checks every Deployment must pass, whatever the values: `name` is workflows, a cloud
 * (its calls) or <cloud>-upload; `queues` what it is told to serve.
 */
function assertWorker(objects: K8sObject[], name: string, queues: string, slots: number): void {
  const deployment = find(objects, 'Deployment', `imagecast-worker-${name}`);
  const spec = podSpec(deployment);
  const [container] = spec.containers;
  assert.deepEqual(container!.command, ['node', 'dist/worker/main.js', '--queues', queues]);
  assert.ok(spec.terminationGracePeriodSeconds! >= 30, "the pod outlives the worker's 30 s drain");
  assert.deepEqual(container!.ports, [{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
  // A config file's checksum (image lists, workflows worker only) is checked by its own test.
  const annotations = Object.entries(podLabels(deployment).annotations ?? {}).filter(
    ([key]) => !key.startsWith('checksum/'),
  );
  assert.deepEqual(Object.fromEntries(annotations), {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': '9464',
    'prometheus.io/path': '/metrics',
  });
  const env = envOf(container!);
  assert.equal(env.get('IMAGECAST_METRICS_ADDRESS')?.value, '0.0.0.0:9464');
  assert.equal(env.get('IMAGECAST_HEARTBEAT_THROTTLE_SECONDS')?.value, '10');
  // Upload pods set the upload queue's slots; the others every other queue's.
  const upload = name.endsWith('-upload');
  assert.equal(env.get(upload ? 'IMAGECAST_UPLOAD_SLOTS' : 'IMAGECAST_ACTIVITY_SLOTS')?.value, String(slots));
  assert.equal(env.get(upload ? 'IMAGECAST_ACTIVITY_SLOTS' : 'IMAGECAST_UPLOAD_SLOTS'), undefined);
  assert.deepEqual(env.get('IMAGECAST_DATABASE_URL')?.valueFrom, {
    secretKeyRef: { name: 'imagecast-database', key: 'url' },
  });
  assert.equal(env.get('IMAGECAST_MASTER_KEYS_FILE')?.value, '/etc/imagecast/master-keys/master-keys.json');
  assert.ok(
    container!.volumeMounts!.some(
      (m) => m.name === 'master-keys' && m.mountPath === '/etc/imagecast/master-keys',
    ),
  );
  const pdb = find(objects, 'PodDisruptionBudget', `imagecast-worker-${name}`);
  assert.deepEqual(
    (pdb.spec as { selector: unknown }).selector,
    (deployment.spec as { selector: unknown }).selector,
  );
  // KEDA owns the replica count: a fixed one would fight the HPA on every upgrade.
  assert.equal((deployment.spec as { replicas?: number }).replicas, undefined);
}

describe('Helm chart (offline: helm template, kubeconform -strict)', () => {
  before(() => k8sTools());

  it('passes helm lint with the default values and with every cloud on', () => {
    for (const args of [[], ['--values', `${chartDir}/${ALL_CLOUDS}`]]) {
      const lint = helm(['lint', '--strict', chartDir, ...args]);
      assert.equal(lint.status, 0, lint.stdout + lint.stderr);
      assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('renders by default the workflows worker, gateway and migration Job, valid against the schemas', () => {
    const { yaml, objects } = render();
    assertAllValid(validateManifests(yaml), objects.length);
    assert.deepEqual(names(objects, 'Deployment'), ['imagecast-gateway', 'imagecast-worker-workflows']);
    assert.deepEqual(names(objects, 'ScaledObject'), ['imagecast-worker-workflows']);
    assert.deepEqual(names(objects, 'PodDisruptionBudget'), [
      'imagecast-gateway',
      'imagecast-worker-workflows',
    ]);
    assert.deepEqual(names(objects, 'Service'), ['imagecast-gateway']);
    assertWorker(objects, 'workflows', 'workflows', 100);
    const env = envOf(podSpec(find(objects, 'Deployment', 'imagecast-worker-workflows')).containers[0]!);
    for (const off of ['IMAGECAST_WORKER_BUILD_ID', 'IMAGECAST_WORKER_DEPLOYMENT_NAME', 'OTEL_EXPORTER_OTLP_ENDPOINT'])
      assert.equal(env.get(off), undefined, `${off} unset by default (unversioned, untraced)`);
    assertNoInlineSecrets(objects);

    const workflows = find(objects, 'ScaledObject', 'imagecast-worker-workflows');
    const spec = workflows.spec as { minReplicaCount: number; scaleTargetRef: { name: string } };
    assert.ok(spec.minReplicaCount >= 1, 'the workflows queue is never scaled to zero');
    assert.equal(spec.scaleTargetRef.name, 'imagecast-worker-workflows');
    assert.deepEqual(triggers(workflows), [
      {
        type: 'temporal',
        metadata: {
          endpoint: 'temporal-frontend.temporal.svc.cluster.local:7233',
          namespace: 'default',
          taskQueue: 'imagecast-workflows',
          queueTypes: 'workflow,activity',
          targetQueueSize: '20',
          activationTargetQueueSize: '0',
        },
      },
    ]);

    const job = find(objects, 'Job', 'imagecast-migrate');
    assert.equal(job.metadata.annotations!['helm.sh/hook'], 'pre-install,pre-upgrade');
    const [migrate] = (job.spec as { template: { spec: PodSpec } }).template.spec.containers;
    assert.deepEqual(migrate!.command, ['node', 'dist/infra/db/migrate-main.js']);
    assert.ok(envOf(migrate!).get('IMAGECAST_DATABASE_URL')?.valueFrom);
  });

  it('with every cloud on: per cloud a calls and an upload worker, each with its PDB and ScaledObject, scaled on backlog and busy slots', () => {
    const { yaml, objects } = render([ALL_CLOUDS]);
    assertAllValid(validateManifests(yaml), objects.length);
    assertNoInlineSecrets(objects);
    // Calls: the chart's 20 (gce: the values' 10); uploads: the chart's 2 (gce: the values' 1).
    const slots: Record<string, number> = { workflows: 100, ec2: 20, gce: 10, azure: 20 };
    const uploadSlots: Record<string, number> = { ec2: 2, gce: 1, azure: 2 };
    assertWorker(objects, 'workflows', 'workflows', 100);
    for (const cloud of CLOUDS) {
      assertWorker(objects, cloud, `${cloud}-calls`, slots[cloud]!);
      assertWorker(objects, `${cloud}-upload`, `${cloud}-upload`, uploadSlots[cloud]!);
    }
    const workers = CLOUDS.flatMap((c) => [`imagecast-worker-${c}`, `imagecast-worker-${c}-upload`]);
    assert.deepEqual(names(objects, 'ScaledObject'), [...workers, 'imagecast-worker-workflows'].sort());
    assert.deepEqual(
      names(objects, 'Deployment'),
      ['imagecast-codec', 'imagecast-gateway', ...workers, 'imagecast-worker-workflows'].sort(),
    );
    // One ServiceAccount per cloud: its upload pods act with the same cloud identity.
    assert.deepEqual(
      names(objects, 'ServiceAccount'),
      ['imagecast-worker-workflows', ...CLOUDS.map((c) => `imagecast-worker-${c}`)].sort(),
    );
    const gceUpload = find(objects, 'Deployment', 'imagecast-worker-gce-upload');
    assert.equal(podLabels(gceUpload).labels.traffic, 'bulk');
    assert.deepEqual(podSpec(gceUpload).containers[0]!.resources, {
      requests: { cpu: '1', memory: '640Mi' },
      limits: { memory: '1Gi' },
    });
    assert.equal(podLabels(find(objects, 'Deployment', 'imagecast-worker-gce')).labels.traffic, undefined);

    for (const [cloud, name, taskQueue, slotsPerPod] of CLOUDS.flatMap((c) => [
      [c, c, `imagecast-${c}`, String(slots[c])],
      [c, `${c}-upload`, `imagecast-${c}-upload`, String(uploadSlots[c])],
    ])) {
      const scaled = find(objects, 'ScaledObject', `imagecast-worker-${name}`);
      const spec = scaled.spec as {
        scaleTargetRef: { name: string };
        advanced: {
          horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: number } } };
        };
      };
      assert.equal(spec.scaleTargetRef.name, `imagecast-worker-${name}`);
      assert.ok(
        spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds >= 600,
      );
      assert.deepEqual(triggers(scaled), [
        {
          type: 'temporal',
          metadata: {
            endpoint: 'imagecast.a1b2c.tmprl.cloud:7233',
            namespace: 'imagecast.a1b2c',
            taskQueue,
            queueTypes: 'activity',
            targetQueueSize: slotsPerPod,
            activationTargetQueueSize: '0',
            tlsServerName: 'imagecast.a1b2c.tmprl.cloud',
          },
          authenticationRef: { name: 'imagecast-temporal' },
        },
        {
          type: 'prometheus',
          metadata: {
            serverAddress: 'http://prometheus-server.monitoring.svc.cluster.local',
            query: `sum(temporal_worker_task_slots_used{task_queue="${taskQueue}",worker_type="ActivityWorker"})`,
            threshold: slotsPerPod,
            activationThreshold: '0',
          },
        },
      ]);
      // The keyless account's token, on calls and upload pods alike: projected for the cloud's audience, mounted where the account says.
      const pod = podSpec(find(objects, 'Deployment', `imagecast-worker-${name}`));
      const token = pod.volumes!.find((v) => v.name === 'keyless-token')!.projected!.sources[0]!
        .serviceAccountToken!;
      assert.equal(token.path, 'token');
      assert.ok(token.audience.length > 0);
      assert.ok(
        pod.containers[0]!.volumeMounts!.some(
          (m) => m.name === 'keyless-token' && m.mountPath === `/var/run/secrets/imagecast/${cloud}`,
        ),
      );
      assert.equal(pod.serviceAccountName, `imagecast-worker-${cloud}`);
    }
    assert.equal(find(objects, 'ScaledObject', 'imagecast-worker-ec2').spec!.minReplicaCount, 0);
    // Upload workers idle between releases: by default scaled to zero, woken by their backlog.
    assert.equal(find(objects, 'ScaledObject', 'imagecast-worker-azure-upload').spec!.minReplicaCount, 0);
    assert.equal(find(objects, 'ScaledObject', 'imagecast-worker-gce-upload').spec!.minReplicaCount, 1);
  });

  it('with every cloud on: workload identity per cloud, Temporal Cloud from Secrets, codec server, HTTPS gateway', () => {
    const { objects } = render([ALL_CLOUDS]);
    assert.equal(
      find(objects, 'ServiceAccount', 'imagecast-worker-ec2').metadata.annotations![
        'eks.amazonaws.com/role-arn'
      ],
      'arn:aws:iam::123456789012:role/imagecast-worker',
    );
    assert.ok(
      find(objects, 'ServiceAccount', 'imagecast-worker-gce').metadata.annotations![
        'iam.gke.io/gcp-service-account'
      ],
    );
    assert.ok(
      find(objects, 'ServiceAccount', 'imagecast-worker-azure').metadata.annotations![
        'azure.workload.identity/client-id'
      ],
    );
    assert.equal(
      podLabels(find(objects, 'Deployment', 'imagecast-worker-azure')).labels['azure.workload.identity/use'],
      'true',
    );
    assert.equal(
      podLabels(find(objects, 'Deployment', 'imagecast-worker-ec2')).labels['azure.workload.identity/use'],
      undefined,
    );

    // Temporal Cloud: the workers' mTLS files and API key, and KEDA's, from the Secrets.
    const workerEnv = envOf(podSpec(find(objects, 'Deployment', 'imagecast-worker-gce')).containers[0]!);
    assert.equal(workerEnv.get('IMAGECAST_TEMPORAL_TLS_CERT')?.value, '/etc/imagecast/temporal-tls/tls.crt');
    assert.equal(workerEnv.get('IMAGECAST_TEMPORAL_TLS_CA')?.value, '/etc/imagecast/temporal-tls/ca.crt');
    assert.deepEqual(workerEnv.get('IMAGECAST_TEMPORAL_API_KEY')?.valueFrom, {
      secretKeyRef: { name: 'temporal-cloud-api-key', key: 'api-key' },
    });
    assert.equal(
      workerEnv.get('IMAGECAST_PAYLOAD_KEYS_FILE')?.value,
      '/etc/imagecast/payload-keys/payload-keys.json',
    );
    // Worker versioning and tracing reach every worker, the upload ones included.
    for (const name of ['imagecast-worker-workflows', 'imagecast-worker-gce', 'imagecast-worker-gce-upload']) {
      const env = envOf(podSpec(find(objects, 'Deployment', name)).containers[0]!);
      assert.equal(env.get('IMAGECAST_WORKER_DEPLOYMENT_NAME')?.value, 'imagecast', name);
      assert.equal(env.get('IMAGECAST_WORKER_BUILD_ID')?.value, '2026.12.06', name);
      assert.equal(env.get('OTEL_EXPORTER_OTLP_ENDPOINT')?.value, 'http://otel-collector.monitoring:4318', name);
    }
    assert.deepEqual(
      (
        find(objects, 'TriggerAuthentication', 'imagecast-temporal').spec as {
          secretTargetRef: { parameter: string }[];
        }
      ).secretTargetRef.map((r) => r.parameter),
      ['apiKey', 'cert', 'key', 'ca'],
    );
    // The codec server decodes with the workers' payload keys; the gateway serves HTTPS from its Secret.
    const codec = podSpec(find(objects, 'Deployment', 'imagecast-codec')).containers[0]!;
    assert.deepEqual(codec.command.slice(-2), ['--cors-origin', 'https://temporal-ui.example']);
    assert.equal(
      envOf(codec).get('IMAGECAST_PAYLOAD_KEYS_FILE')?.value,
      '/etc/imagecast/payload-keys/payload-keys.json',
    );
    assert.ok(find(objects, 'Service', 'imagecast-codec'));
    const gateway = podSpec(find(objects, 'Deployment', 'imagecast-gateway')).containers[0]!;
    assert.deepEqual(gateway.command.slice(-6), [
      '--tls-cert',
      '/etc/imagecast/gateway-tls/tls.crt',
      '--tls-key',
      '/etc/imagecast/gateway-tls/tls.key',
      '--trust-proxy',
      '10.0.0.0/8',
    ]);
  });

  it('image lists: the workflows worker gets the imagelist_publish config file (ConfigMap, IMAGECAST_CONFIG) and the sftp keys; no other pod does', () => {
    type Volume = { name: string; configMap?: { name: string }; secret?: { secretName: string } };
    const imageListParts = (objects: K8sObject[], name: string) => {
      const pod = podSpec(find(objects, 'Deployment', name));
      return {
        config: envOf(pod.containers[0]!).get('IMAGECAST_CONFIG')?.value,
        mounts: (pod.containers[0]!.volumeMounts ?? []).filter((m) => m.name.startsWith('imagelist-')),
        volumes: ((pod.volumes ?? []) as Volume[]).filter((v) => v.name.startsWith('imagelist-')),
        checksum: podLabels(find(objects, 'Deployment', name)).annotations?.['checksum/imagelist-config'],
      };
    };
    // By default: no mappings, so no file and no setting.
    const plain = render().objects;
    assert.deepEqual(names(plain, 'ConfigMap'), []);
    assert.deepEqual(imageListParts(plain, 'imagecast-worker-workflows'), {
      config: undefined,
      mounts: [],
      volumes: [],
      checksum: undefined,
    });

    const { objects } = render([ALL_CLOUDS]);
    assert.deepEqual(names(objects, 'ConfigMap'), ['imagecast-imagelist-config']);
    const file = JSON.parse(
      (find(objects, 'ConfigMap', 'imagecast-imagelist-config').data as Record<string, string>)['config.json']!,
    ) as { imagelist_publish: unknown };
    // The file is one the worker accepts, and holds the values' mappings as given.
    const parsed = imageListPublishSchema.safeParse(file.imagelist_publish);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    assert.deepEqual(
      parsed.data.map((m) => [m.uri_match, m.uri_replace, m.account ?? m.ssh_private_key_file]),
      [
        ['https://lists.example.org/', 's3://example-lists/', 'prod-aws'],
        [
          'https://mirror.example.org/lists/',
          'sftp://www@web.example.org/srv/www/lists/',
          '/etc/imagecast/imagelist-ssh/publish_ed25519',
        ],
      ],
    );
    const workflows = imageListParts(objects, 'imagecast-worker-workflows');
    assert.equal(workflows.config, '/etc/imagecast/config/config.json');
    assert.deepEqual(workflows.mounts, [
      { name: 'imagelist-config', mountPath: '/etc/imagecast/config', readOnly: true },
      { name: 'imagelist-ssh', mountPath: '/etc/imagecast/imagelist-ssh', readOnly: true },
    ]);
    assert.deepEqual(workflows.volumes, [
      { name: 'imagelist-config', configMap: { name: 'imagecast-imagelist-config' } },
      { name: 'imagelist-ssh', secret: { secretName: 'imagecast-imagelist-ssh', defaultMode: 0o440 } },
    ]);
    assert.match(workflows.checksum ?? '', /^[0-9a-f]{64}$/);
    for (const other of ['imagecast-worker-ec2', 'imagecast-worker-gce-upload', 'imagecast-gateway'])
      assert.deepEqual(
        imageListParts(objects, other),
        { config: undefined, mounts: [], volumes: [], checksum: undefined },
        other,
      );

    // Other mappings: another checksum, so the pods restart and releases read the new file.
    const changed = render(
      [ALL_CLOUDS],
      ['imageLists.publish=[{"uri_match":"https://lists.example.org/","uri_replace":"gs://example-lists/","account":"prod-gce"}]'],
    ).objects;
    const changedChecksum = imageListParts(changed, 'imagecast-worker-workflows').checksum;
    assert.match(changedChecksum ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(changedChecksum, workflows.checksum);

    const incomplete = renderChart([], ['imageLists.publish=[{"uri_match":"https://lists.example.org/"}]']);
    assert.notEqual(incomplete.status, 0);
    assert.match(incomplete.stderr, /imageLists\.publish\[0\]: needs uri_match .* and uri_replace/);
  });

  it('fails validation on a misspelt field, naming it: from values, in a Deployment, in a ScaledObject', () => {
    // A typo passed through values lands in every pod spec.
    const typo = render([], ['worker.podSecurityContext={"runAsNonRoot":true,"runAsUsr":1000}']);
    const fromValues = validateManifests(typo.yaml);
    assert.equal(fromValues.status, 1);
    const invalid = fromValues.resources.filter((r) => r.status === 'statusInvalid');
    assert.deepEqual(invalid.map((r) => `${r.kind}/${r.name}`).sort(), [
      'Deployment/imagecast-gateway',
      'Deployment/imagecast-worker-workflows',
      'Job/imagecast-migrate',
    ]);
    for (const r of invalid) assert.match(r.msg, /additional properties 'runAsUsr' not allowed/);

    const { objects } = render([ALL_CLOUDS]);
    const mutated = (mutate: (o: K8sObject) => void, kind: string, name: string) => {
      const copy = structuredClone(find(objects, kind, name));
      mutate(copy);
      return validateManifests(JSON.stringify(copy));
    };
    const grace = mutated(
      (d) => {
        const pod = podSpec(d) as unknown as Record<string, unknown>;
        pod.terminationGracePeriodSecond = pod.terminationGracePeriodSeconds;
        delete pod.terminationGracePeriodSeconds;
      },
      'Deployment',
      'imagecast-worker-ec2',
    );
    assert.equal(grace.status, 1);
    assert.match(
      grace.resources[0]!.msg,
      /at '\/spec\/template\/spec': additional properties 'terminationGracePeriodSecond' not allowed/,
    );

    // KEDA wants every trigger metadata value as a string.
    const number = mutated(
      (s) => (triggers(s)[0]!.metadata.targetQueueSize = 4),
      'ScaledObject',
      'imagecast-worker-ec2',
    );
    assert.equal(number.status, 1);
    assert.match(
      number.resources[0]!.msg,
      /at '\/spec\/triggers\/0\/metadata\/targetQueueSize': got number, want string/,
    );
    // Deep in a CRD (its schema is closed at every level by the conversion).
    const deep = mutated(
      (s) => {
        const spec = s.spec as Record<string, unknown>;
        spec.minReplicaCounts = spec.minReplicaCount;
      },
      'ScaledObject',
      'imagecast-worker-gce',
    );
    assert.equal(deep.status, 1);
    assert.match(deep.resources[0]!.msg, /at '\/spec': additional properties 'minReplicaCounts' not allowed/);
    // The unmodified object passes: the failures above are the typos'.
    assert.equal(mutated(() => undefined, 'ScaledObject', 'imagecast-worker-gce').status, 0);
  });

  it('refuses values that would break releases or scaling: workflows scaled to zero, a grace period under the drain, TLS KEDA cannot speak', () => {
    const zero = renderChart(
      [],
      ['workers.workflows.autoscaling={"minReplicas":0,"maxReplicas":2,"targetQueueSize":20}'],
    );
    assert.notEqual(zero.status, 0);
    assert.match(zero.stderr, /workers\.workflows\.autoscaling\.minReplicas must be at least 1/);
    const short = renderChart([], ['worker.terminationGracePeriodSeconds=20']);
    assert.notEqual(short.status, 0);
    assert.match(short.stderr, /terminationGracePeriodSeconds must be at least 30/);
    const keda = renderChart([], ['temporal.tls={"enabled":true}']);
    assert.notEqual(keda.status, 0);
    assert.match(
      keda.stderr,
      /KEDA's temporal trigger speaks TLS only with an API key or a client certificate/,
    );
    assert.equal(renderChart([], ['temporal.tls={"enabled":true}', 'keda.enabled=false']).status, 0);
    const codecWithoutKeys = renderChart([], ['codec.enabled=true']);
    assert.notEqual(codecWithoutKeys.status, 0);
    assert.match(codecWithoutKeys.stderr, /codec\.enabled needs payloadKeys\.secretName/);
  });
});
