// Faults queued for the fakes' next calls: each entry strikes the next `times` calls of one operation ('*' = any);
// a chooser, when set, is asked first on every call (random faults for chaos tests).

export type FaultChooser<F> = (operation: string) => F | undefined;

export class FaultQueue<F> {
  private readonly entries: Array<{ operation: string; fault: F; remaining: number }> = [];
  private chooser: FaultChooser<F> | undefined;

  add(operation: string, fault: F, times = 1): void {
    this.entries.push({ operation, fault, remaining: times });
  }

  chooseWith(chooser: FaultChooser<F> | undefined): void {
    this.chooser = chooser;
  }

  /** The fault for this call of `operation`: the chooser's, else a queued one (used up after its `times`). */
  take(operation: string): F | undefined {
    const chosen = this.chooser?.(operation);
    if (chosen !== undefined) return chosen;
    const i = this.entries.findIndex((e) => (e.operation === operation || e.operation === '*') && e.remaining > 0);
    if (i < 0) return undefined;
    const e = this.entries[i]!;
    e.remaining--;
    if (e.remaining <= 0) this.entries.splice(i, 1);
    return e.fault;
  }

  clear(): void {
    this.entries.length = 0;
    this.chooser = undefined;
  }
}
