import { RELEASE_STEPS, type CloudName, type ReleaseStep } from '../schemas/steps.js';
import type { ImageRef } from '../activities/provider.js';

export type StepState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
export type ReleaseState = 'waiting' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface StepStatus {
  name: ReleaseStep;
  state: StepState;
  startedAt?: string;
  finishedAt?: string;
  /** One line for people: what was made, why it was skipped, what failed. */
  detail?: string;
  /** Ids the step produced (disk, image per region, deprecated images). */
  produced?: string[];
}

/** One account's child release, when a job names several accounts. */
export interface AccountRelease {
  account: string;
  /** The child workflow's id. */
  releaseId: string;
  state: ReleaseState;
  images: ImageRef[];
  error?: string;
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
  currentStep?: ReleaseStep;
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
  ) {
    this.status = {
      ...init,
      state: 'running',
      steps: RELEASE_STEPS.map((name) => ({ name, state: 'pending' })),
      images: [],
      deprecated: [],
    };
  }

  step(name: ReleaseStep): StepStatus {
    const found = this.status.steps.find((s) => s.name === name);
    if (!found) throw new Error(`unknown release step ${name}`);
    return found;
  }

  start(name: ReleaseStep, detail?: string): void {
    Object.assign(this.step(name), { state: 'running', startedAt: this.now().toISOString(), detail });
    this.status.currentStep = name;
  }

  succeed(name: ReleaseStep, detail?: string, produced?: string[]): void {
    Object.assign(this.step(name), { state: 'succeeded', finishedAt: this.now().toISOString() });
    if (detail !== undefined) this.step(name).detail = detail;
    if (produced?.length) this.step(name).produced = produced;
  }

  skip(name: ReleaseStep, reason: string): void {
    Object.assign(this.step(name), { state: 'skipped', detail: reason });
  }

  /** Marks the running step failed and every step still pending as skipped. */
  fail(error: string, state: 'failed' | 'cancelled'): void {
    const running = this.status.steps.find((s) => s.state === 'running');
    if (running) Object.assign(running, { state: 'failed', finishedAt: this.now().toISOString(), detail: error });
    this.status.state = state;
    this.status.error = error;
  }

  finish(): void {
    this.status.state = 'succeeded';
    this.status.currentStep = undefined;
  }

  /** A Markdown table for the Web UI's "current details" panel. */
  toMarkdown(): string {
    const rows = this.status.steps.map(
      (s) => `| ${s.name} | ${s.state} | ${(s.detail ?? '').replace(/\|/g, '\\|')} |`,
    );
    return [
      `**${this.status.imageName}** — ${this.status.state}`,
      '',
      '| step | state | detail |',
      '|---|---|---|',
      ...rows,
    ].join('\n');
  }
}
