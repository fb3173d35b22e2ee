/**
 * One value per account (a cloud's SDK clients), made on first use and shared by every call
 * after it. A make that failed is forgotten, so the next call tries again (an account added
 * meanwhile, a network blip while reading it).
 */
export class PerAccount<T> {
  private readonly made = new Map<string, Promise<T>>();

  constructor(private readonly make: (accountName: string) => Promise<T>) {}

  get(accountName: string): Promise<T> {
    let value = this.made.get(accountName);
    if (!value) {
      value = this.make(accountName);
      this.made.set(accountName, value);
      value.catch(() => this.made.delete(accountName));
    }
    return value;
  }

  /** Every value made so far (failed ones left out), forgetting them all: for closing clients. */
  async drain(): Promise<T[]> {
    const all = await Promise.allSettled(this.made.values());
    this.made.clear();
    return all.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }
}
