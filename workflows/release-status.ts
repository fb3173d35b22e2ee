import type { RawUploadResult } from '../schemas/raw-upload.js';
import type { ListPublication } from '../schemas/imagelist-release.js';
import { RELEASE_STEPS, type CloudName, type ReleaseStep, type StepName } from '../schemas/steps.js';
import type { ImageRef } from '../activities/provider.js';
import type { PreflightProblem } from '../schemas/preflight.js';
import type { ChecksumStatus } from './stream-checksum.js';

export type StepState = 'pending' | 'running' | 'blocked' | 'succeeded' | 'failed' | 'skipped';
/** `blocked`: a failure retries did not cure; the release keeps what it made and waits for a decision. */
export type ReleaseState = 'waiting' | 'running' | 'blocked' | 'succeeded' | 'failed' | 'cancelled';

/** A region whose unit of a step failed for good (not a verdict): the release waits on it. */
export interface BlockedRegion {
  region: string;
  /** The failure, as the last attempt reported it. */
  reason: string;
}

/** What a blocked release waits on, and how a person resolves it. */
export interface BlockedState {
  step: StepName;
  regions: BlockedRegion[];
  since: string;
  /** When block_timeout applies its policy (`then`). */
  until: string;
  then: 'abort' | 'skip';
  /** The commands that resolve it. */
  resolve: string[];
  /** Reminders sent so far while it stays blocked (block_reminder apart). */
  reminders?: number;
}

export interface StepStatus {
  name: StepName;
  state: StepState;
  startedAt?: string;
  finishedAt?: string;
  /** One line for people: what was made, why it was skipped, what failed. */
  detail?: string;
  /** Ids the step produced (disk, image per region, deprecated images). */
  produced?: string[];
  /** Attempts of the step's activities that failed and were retried (reported by the worker). */
  failedAttempts?: number;
  /** The last of those failures: which call, which attempt, why. */
  lastFailure?: string;
}

/** What a `dry_run: true` release would have done; it made nothing. */
export interface DryRunReport {
  imageName: string;
  /** The build the download step chose: its URL and checksum. */
  build: { url: string; checksum: string };
  account: string;
  homeRegion: string;
  replicaRegions: string[];
  /** How the images would be shared: public, private to the account, shared with …. */
  sharing: string;
  allowCopy: boolean;
  tests: string[];
  lastService: ReleaseStep;
  /** `utctime` in the future: when the release would start (a dry run does not wait). */
  startAt?: string;
  /** Images the release would deprecate. */
  wouldDeprecate: ImageRef[];
  /** What would make the real release fail (its preflight's findings, one line each); empty when it would go. */
  problems: string[];
  /** The same problems as the preflight found them (account, region, check, fix), for programs. */
  preflight?: PreflightProblem[];
}

/** One account's child release, when a job names several accounts. */
export interface AccountRelease {
  account: string;
  /** The child workflow's id. */
  releaseId: string;
  state: ReleaseState;
  images: ImageRef[];
  error?: string;
  /** The account's dry-run report, when the job was a dry run. */
  dryRun?: DryRunReport;
}

/** What the `status` query returns; also the memo and the workflow result's `status`. */
/** One image test's outcome as the status reports it. */
export interface TestResult {
  name: string;
  passed: boolean;
  durationMs: number;
  /** The command's output (trimmed to the last 4 KiB). */
  output: string;
  /** Why it failed. */
  error?: string;
  /** Why it was not run (the instance cannot be reached: an emulator). */
  skipped?: string;
}

/** How a test result reads for people (CLI, email, demo): one word. */
export function testVerdict(result: TestResult): 'passed' | 'FAILED' | 'skipped' {
  return result.skipped ? 'skipped' : result.passed ? 'passed' : 'FAILED';
}

export interface ReleaseStatus {
  releaseId: string;
  cloud: CloudName;
  account: string;
  imageName: string;
  state: ReleaseState;
  currentStep?: StepName;
  steps: StepStatus[];
  images: ImageRef[];
  deprecated: ImageRef[];
  error?: string;
  /** The test step's results, one per test. */
  testResults?: TestResult[];
  /** Whether the end-of-release notification went out (when the job asked for one). */
  notification?: string;
  /** Set when the job names several accounts: one child release each. */
  accounts?: AccountRelease[];
  /** `utctime` in the future: the release waits until then (state `waiting`). */
  waitingUntil?: string;
  /** Set when the job said `dry_run: true`: what the release would do. Nothing was made. */
  dryRun?: DryRunReport;
  /** Set while the release is `blocked`: which regions, why, and how to resolve it. */
  blocked?: BlockedState;
  /** Regions a decision (or block_timeout) dropped from this release: it finished without them. */
  skippedRegions?: string[];
  /** A retry: what it adopted from the earlier runs of the release instead of making it again. */
  reused?: ReusedArtifact[];
  /** The raw_image_upload step's objects: URL, size and sha512 of the image file and the additional files. */
  rawUpload?: RawUploadResult;
  /** image_lists, and deprecations: the signed image lists this release published. */
  imageLists?: ListPublication[];
  /** Set when the build published no checksum: the one its upload computed, marked not verified. */
  checksum?: ChecksumStatus;
}

/** A disk or image an earlier run of the release left intact, adopted by this run. */
export interface ReusedArtifact {
  kind: 'disk' | 'image';
  region: string;
  id: string;
  /** The earlier run (its run id) that made it. */
  fromRun: string;
}

/**
 * Keeps the per-step table current. Pure bookkeeping: the workflow passes in the
 * (deterministic) workflow clock, so this runs the same way on replay.
 */
export class ReleaseStatusBoard {
  readonly status: ReleaseStatus;

  constructor(
    init: Pick<ReleaseStatus, 'releaseId' | 'cloud' | 'account' | 'imageName'>,
    private readonly now: () => Date,
    /** The steps it shows: a release's, or a revoke's. */
    steps: readonly StepName[] = RELEASE_STEPS,
  ) {
    this.status = {
      ...init,
      state: 'running',
      steps: steps.map((name) => ({ name, state: 'pending' })),
      images: [],
      deprecated: [],
    };
  }

  step(name: StepName): StepStatus {
    const found = this.status.steps.find((s) => s.name === name);
    if (!found) throw new Error(`unknown release step ${name}`);
    return found;
  }

  start(name: StepName, detail?: string): void {
    Object.assign(this.step(name), { state: 'running', startedAt: this.now().toISOString(), detail });
    this.status.currentStep = name;
  }

  succeed(name: StepName, detail?: string, produced?: string[]): void {
    Object.assign(this.step(name), { state: 'succeeded', finishedAt: this.now().toISOString() });
    if (detail !== undefined) this.step(name).detail = detail;
    if (produced?.length) this.step(name).produced = produced;
  }

  skip(name: StepName, reason: string): void {
    Object.assign(this.step(name), { state: 'skipped', detail: reason });
  }

  /** Marks the running step failed and every step still pending as not run. */
  fail(error: string, state: 'failed' | 'cancelled'): void {
    const running = this.status.steps.find((s) => s.state === 'running' || s.state === 'blocked');
    if (running) Object.assign(running, { state: 'failed', finishedAt: this.now().toISOString(), detail: error });
    this.status.blocked = undefined;
    this.status.state = state;
    this.status.error = error;
    this.skipPending(`not run: the release ${state === 'cancelled' ? 'was cancelled' : 'failed'}`);
  }

  finish(): void {
    this.status.state = 'succeeded';
    this.status.currentStep = undefined;
    this.skipPending('not run');
  }

  /** A finished release keeps no step "pending": it will never run. */
  private skipPending(reason: string): void {
    for (const step of this.status.steps) if (step.state === 'pending') this.skip(step.name, reason);
  }

  /** The step's units in these regions failed for good: the release waits for a decision. */
  block(name: StepName, blocked: Omit<BlockedState, 'step' | 'since'>): void {
    Object.assign(this.step(name), { state: 'blocked', detail: blockedDetail(blocked) });
    this.status.state = 'blocked';
    this.status.blocked = { step: name, since: this.now().toISOString(), ...blocked };
  }

  /** A decision was taken: the step runs again (its detail says what was decided). */
  unblock(name: StepName, detail: string): void {
    Object.assign(this.step(name), { state: 'running', detail });
    this.status.state = 'running';
    this.status.blocked = undefined;
  }

  /** An activity attempt of the running step failed and will be retried (the worker says so). */
  attemptFailed(failure: string): void {
    const step = this.status.steps.find((s) => s.state === 'running');
    if (!step) return;
    step.failedAttempts = (step.failedAttempts ?? 0) + 1;
    step.lastFailure = failure;
  }

  /**
   * The Web UI's "current details" panel: a table of state, time and attempts per step, then
   * each step's detail as a list item. The UI renders Markdown in a narrow panel with no cell
   * padding, so the table holds only short cells, each followed by an em space (Markdown
   * keeps it, unlike ASCII spaces) that keeps neighbouring cells apart.
   */
  toMarkdown(): string {
    const now = this.now();
    const pad = (text: string) => `${cell(text)}${text ? EM_SPACE : ''}`;
    const rows = this.status.steps.map((s) => {
      const attempts = s.state === 'pending' || s.state === 'skipped' ? '' : String(1 + (s.failedAttempts ?? 0));
      return `| ${pad(`${STATE_MARK[s.state]} ${s.name}`)} | ${pad(s.state)} | ${pad(stepDuration(s, now))} | ${cell(attempts)} |`;
    });
    const details = this.status.steps.flatMap((s) => {
      const failure = s.lastFailure && s.state !== 'succeeded' ? `${s.detail ? '; ' : ''}last failure: ${s.lastFailure}` : '';
      const text = `${s.detail ?? ''}${failure}`;
      return text ? [`- **${s.name}**: ${oneLine(text)}`] : [];
    });
    const blocked = this.status.blocked;
    const resolve = blocked ? ['', `**blocked** since ${blocked.since} (${blocked.then} at ${blocked.until}); resolve with:`, ...blocked.resolve.map((c) => `- \`${c}\``)] : [];
    const heading =
      this.status.state === 'waiting' && this.status.waitingUntil
        ? `waiting until ${this.status.waitingUntil}`
        : this.status.dryRun
          ? `${this.status.state} (dry run: nothing was made)`
          : this.status.state;
    return [
      `**${this.status.imageName || 'release'}** — ${heading}`,
      '',
      `| step${EM_SPACE} | state${EM_SPACE} | took${EM_SPACE} | attempts |`,
      '|:---|:---|---:|---:|',
      ...rows,
      '',
      ...details,
      ...resolve,
    ].join('\n');
  }
}

const EM_SPACE = '\u2003';

const STATE_MARK: Record<StepState, string> = {
  pending: '·',
  running: '▶',
  blocked: '⏸',
  succeeded: '✔',
  failed: '✖',
  skipped: '–',
};

/** How long a step took (or has been running), for people: `850 ms`, `12 s`, `3 min 4 s`. */
export function stepDuration(step: Pick<StepStatus, 'startedAt' | 'finishedAt' | 'state'>, now: Date): string {
  if (!step.startedAt) return '';
  const end = step.finishedAt ? Date.parse(step.finishedAt) : step.state === 'running' ? now.getTime() : undefined;
  if (end === undefined) return '';
  return formatDuration(Math.max(0, end - Date.parse(step.startedAt)));
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The blocked step's one line: each region and why. */
export function blockedDetail(blocked: Pick<BlockedState, 'regions'>): string {
  return `blocked: ${blocked.regions.map((r) => `${r.region} (${r.reason})`).join('; ')}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** Table cells hold one line and no column separators. */
function cell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}
