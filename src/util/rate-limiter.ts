/**
 * Per-client token bucket with Session's parameters (oxenss/rpc/rate_limiter.cpp): capacity 600,
 * refilled at 300 tokens/s, a new client starts with capacity − 1, at most `maxClients` tracked;
 * when full, fully refilled buckets are purged and, if still full, the request is limited.
 */
export interface RateLimiterOptions {
  capacity: number;
  refillPerSecond: number;
  maxClients: number;
}

interface Bucket {
  tokens: number;
  lastMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly opts: RateLimiterOptions,
    private readonly now: () => number,
  ) {}

  /** Takes one token for `client`; false means the request must be refused (429). */
  take(client: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(client);
    if (bucket === undefined) {
      if (this.buckets.size >= this.opts.maxClients && !this.purge(now)) return false;
      this.buckets.set(client, {tokens: this.opts.capacity - 1, lastMs: now});
      return true;
    }
    this.refill(bucket, now);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private refill(bucket: Bucket, now: number): void {
    const added = ((now - bucket.lastMs) / 1000) * this.opts.refillPerSecond;
    bucket.tokens = Math.min(this.opts.capacity, bucket.tokens + added);
    bucket.lastMs = now;
  }

  /** Drops buckets that are full again; returns whether room was made. */
  private purge(now: number): boolean {
    for (const [client, bucket] of this.buckets) {
      this.refill(bucket, now);
      if (bucket.tokens >= this.opts.capacity) this.buckets.delete(client);
    }
    return this.buckets.size < this.opts.maxClients;
  }

  get size(): number {
    return this.buckets.size;
  }
}
