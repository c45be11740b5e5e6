// Login attempts per MAC: at most `perMinute` in any sliding minute. Bounded:
// the oldest keys go first when too many are tracked.
export class LoginRateLimit {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly maxKeys = 65536,
  ) {}

  /** Record an attempt; false when it is over the limit. */
  allow(key: string, now = Date.now()): boolean {
    const since = now - 60_000;
    const list = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (list.length >= this.perMinute) {
      this.hits.set(key, list);
      return false;
    }
    list.push(now);
    this.hits.delete(key);
    if (this.hits.size >= this.maxKeys) {
      const oldest = this.hits.keys().next().value;
      if (oldest !== undefined) this.hits.delete(oldest);
    }
    this.hits.set(key, list);
    return true;
  }
}
