// A cloud API's request rate limit as the fakes apply it: a sliding one-second window of accepted calls.

export class CallsPerSecondLimit {
  private readonly accepted: number[] = [];

  /** Whether a call now is over `callsPerSecond` (undefined or 0 = unlimited); a call within the limit is counted. */
  exceeded(callsPerSecond: number | undefined, now = Date.now()): boolean {
    if (!callsPerSecond) return false;
    while (this.accepted.length && this.accepted[0]! <= now - 1000) this.accepted.shift();
    if (this.accepted.length >= callsPerSecond) return true;
    this.accepted.push(now);
    return false;
  }

  clear(): void {
    this.accepted.length = 0;
  }
}
