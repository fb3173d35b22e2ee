/**
 * The failures a test asked a fake for, shared by the fakes (GCE Compute, Azure Resource
 * Manager): each is used `times` times (default 1), the oldest matching one first, and one
 * naming an operation the fake does not serve is refused, so a misspelt fault fails loudly
 * instead of never firing. What a fault matches on is each fake's own.
 */
export class FaultQueue<Spec extends { times?: number }> {
  private readonly plan: Array<{ spec: Spec; left: number }> = [];

  /** `check` throws for a spec the fake cannot honour (an unknown operation name, …). */
  constructor(private readonly check: (spec: Spec) => void) {}

  add(fault: Spec): void {
    this.check(fault);
    const left = fault.times ?? 1;
    if (!(left > 0)) throw new Error(`fault times must be positive, got ${left}`);
    this.plan.push({ spec: { ...fault }, left });
  }

  clear(): void {
    this.plan.length = 0;
  }

  /** Faults not used up yet, for a test that wants to know one fired. */
  pending(): Spec[] {
    return this.plan.map((f) => ({ ...f.spec }));
  }

  /** The first fault `matches` accepts, used up by one; undefined when none applies. */
  take(matches: (spec: Spec) => boolean): Spec | undefined {
    const index = this.plan.findIndex(({ spec }) => matches(spec));
    const entry = this.plan[index];
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.plan.splice(index, 1);
    return entry.spec;
  }
}
