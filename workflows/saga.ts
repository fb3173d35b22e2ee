import { CancellationScope, log } from '@temporalio/workflow';

/**
 * Undo steps for what a release has made so far, newest first. On failure or cancellation
 * they run in a non-cancellable scope, so a cancelled release still cleans up after itself.
 */
export class Compensations {
  private readonly undo: Array<{ what: string; run: () => Promise<unknown> }> = [];

  add(what: string, run: () => Promise<unknown>): void {
    this.undo.unshift({ what, run });
  }

  /** The release is out (published): from here on a failure must not take it back. */
  forgetAll(): void {
    this.undo.length = 0;
  }

  async runAll(): Promise<string[]> {
    const problems: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const { what, run } of this.undo) {
        try {
          await run();
        } catch (error) {
          problems.push(`${what}: ${(error as Error).message}`);
          log.error('compensation failed', { what, error: (error as Error).message });
        }
      }
    });
    this.undo.length = 0;
    return problems;
  }
}
