// helm, kubeconform and the offline schemas infra/install-k8s-tools.sh keeps in the user's
// tools cache: rendering the chart, reading what it rendered, validating it with no network.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const chartDir = join(projectRoot, 'infra/helm/imagecast');

interface ToolPaths {
  helm: string;
  kubeconform: string;
  pyyaml: string;
  kubernetesVersion: string;
  kubernetesSchemas: string;
  kedaSchemas: string;
}

let paths: ToolPaths | undefined;

/** The tools' locations; installs them first if they are missing (quick when they are not). */
export function k8sTools(): ToolPaths {
  paths ??= JSON.parse(
    execFileSync('bash', [join(projectRoot, 'infra/install-k8s-tools.sh'), '--paths'], { encoding: 'utf8' }),
  ) as ToolPaths;
  return paths;
}

export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], input = '', env: NodeJS.ProcessEnv = {}): ToolRun {
  const result = spawnSync(command, args, {
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    // No proxy, no kubeconfig: nothing here may reach a cluster or the network.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: '/dev/null', ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function helm(args: string[]): ToolRun {
  return run(k8sTools().helm, args);
}

/** `helm template` of the chart with these values files (paths relative to the chart) and --set-json pairs. */
export function renderChart(valuesFiles: string[] = [], setJson: string[] = []): ToolRun {
  return helm([
    'template',
    'imagecast',
    chartDir,
    '--namespace',
    'imagecast',
    ...valuesFiles.flatMap((f) => ['--values', join(chartDir, f)]),
    ...setJson.flatMap((s) => ['--set-json', s]),
  ]);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

/** The YAML documents of a rendering, parsed by PyYAML (empty documents dropped). */
export function parseManifests(yaml: string): K8sObject[] {
  const parsed = run(
    'python3',
    ['-c', 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)'],
    yaml,
    { PYTHONPATH: k8sTools().pyyaml },
  );
  if (parsed.status !== 0) throw new Error(`cannot parse the rendered YAML: ${parsed.stderr}`);
  return JSON.parse(parsed.stdout) as K8sObject[];
}

export interface Validation {
  status: number | null;
  /** kubeconform's verdict per object: statusValid, statusInvalid, statusError, statusSkipped. */
  resources: { kind: string; name: string; status: string; msg: string }[];
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

/**
 * `kubeconform -strict` of YAML or JSON documents against the local schemas only: Kubernetes'
 * (kubernetes-validate) and KEDA's CRDs. A kind with no schema is an error, never skipped.
 */
export function validateManifests(documents: string): Validation {
  const tools = k8sTools();
  const result = run(
    tools.kubeconform,
    [
      '-strict',
      '-summary',
      '-verbose',
      '-output',
      'json',
      '-kubernetes-version',
      tools.kubernetesVersion,
      '-schema-location',
      `${tools.kubernetesSchemas}/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
      '-schema-location',
      `${tools.kedaSchemas}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
    ],
    documents,
  );
  const report = JSON.parse(result.stdout) as Omit<Validation, 'status'>;
  return { status: result.status, ...report };
}
