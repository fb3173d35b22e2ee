// Reading rendered Kubernetes objects in tests: the few fields the chart's checks look at.
import assert from 'node:assert/strict';
import { parseManifests, renderChart, type K8sObject } from './k8s-tools.js';

export interface Container {
  command: string[];
  env: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
  resources?: unknown;
}
export interface PodSpec {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  containers: Container[];
  volumes?: {
    name: string;
    projected?: { sources: { serviceAccountToken?: { audience: string; path: string } }[] };
  }[];
}
export interface Trigger {
  type: string;
  metadata: Record<string, unknown>;
  authenticationRef?: { name: string };
}

/** `helm template` of the chart, which must succeed, and its objects. */
export function render(
  valuesFiles: string[] = [],
  setJson: string[] = [],
): { yaml: string; objects: K8sObject[] } {
  const rendered = renderChart(valuesFiles, setJson);
  assert.equal(rendered.status, 0, rendered.stderr);
  return { yaml: rendered.stdout, objects: parseManifests(rendered.stdout) };
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

export const names = (objects: K8sObject[], kind: string) =>
  objects
    .filter((o) => o.kind === kind)
    .map((o) => o.metadata.name)
    .sort();
export const podSpec = (deployment: K8sObject) =>
  (deployment.spec as { template: { spec: PodSpec } }).template.spec;
export const podLabels = (deployment: K8sObject) =>
  (
    deployment.spec as {
      template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> } };
    }
  ).template.metadata;
export const envOf = (container: Container) => new Map(container.env.map((e) => [e.name, e]));
export const triggers = (scaledObject: K8sObject) => (scaledObject.spec as { triggers: Trigger[] }).triggers;

/** No secret value in the rendering: secret-looking variables come from Secrets, and no Secret is made. */
export function assertNoInlineSecrets(objects: K8sObject[]): void {
  assert.deepEqual(names(objects, 'Secret'), []);
  for (const o of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job')) {
    for (const container of (o.spec as { template: { spec: PodSpec } }).template.spec.containers) {
      for (const e of container.env) {
        // Either a Secret's key, or the path of a file mounted from a Secret (mTLS key, key files).
        if (/(URL|API_KEY|TOKEN|PASSWORD|SECRET|_KEY|_KEYS|_FILE)$/.test(e.name))
          assert.ok(
            (e.valueFrom && e.value === undefined) || e.value?.startsWith('/etc/imagecast/'),
            `${o.metadata.name}: ${e.name} must come from a Secret`,
          );
      }
    }
  }
}
