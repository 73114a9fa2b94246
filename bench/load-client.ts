/**
 * The benchmark's load generator, run as its own process (it must not share an event loop with the
 * server): `node dist/bench/load-client.js '<LoadSpec JSON>'`.
 *
 * `connections` request loops share one undici Pool (one connection each, no pipelining) and POST
 * to /storage_rpc/v1 back to back. Timed mode: a warm-up, then a measured window; only requests
 * completing inside the window count. Count mode (`totalRequests`): exactly that many requests,
 * used to prefill mailboxes. Open-loop mode (`rate`): requests leave on a fixed schedule, `rate` per
 * second, whether or not earlier ones were answered, and each latency is measured from its scheduled
 * send time, so time spent queued (in the client's pool or the server) is counted; closed loops
 * hide it, since a slow answer also delays the next send. Progress and the result are JSON lines on
 * stdout (see util.ts).
 */
import {pathToFileURL} from "node:url";
import {Pool} from "undici";
import {onionSource} from "./onion-client.js";
import {percentile, round, writeMessage} from "./util.js";
import {plainAccounts, pqAccounts, pqRetrieveBodies, retrieveBodies, signingAccounts, storeBodies} from "./workload.js";

export interface LoadSpec {
  /** Origin, e.g. http://127.0.0.1:40123. */
  url: string;
  workload: "store" | "retrieve";
  /**
   * "plain": receive-only store accounts; "signing": Ed25519-keyed `05` accounts (prefill,
   * retrieve); "pq": ML-DSA-65-keyed `07` accounts (prefill, retrieve).
   */
  accounts: "plain" | "signing" | "pq";
  accountCount: number;
  seed: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** Count mode: send exactly this many requests (no warm-up, no window). */
  totalRequests?: number;
  /**
   * Send each body as a 3-hop onion request (POST /onion_req/v2) entering at `url`, through the
   * other two nodes the entry's /network/v1/nodes lists; statuses and samples are the final hop's.
   */
  onion?: boolean;
  /**
   * Open-loop mode: offered load in requests per second. Arrivals follow the schedule
   * start + i / rate; latencies count from the scheduled time. `connections` caps the sockets.
   */
  rate?: number;
}

/** One request to send: a client RPC body, or an onion blob with its response decryptor. */
export interface Outgoing {
  path: string;
  body: string | Uint8Array;
  /** Onion: the final hop's {status, body} from the sealed 200 answer. */
  open?: (text: string) => {status: number; body: string};
}

export interface LoadResult {
  /** Requests completed inside the measured window (count mode: all of them). */
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx responses over the whole run, warm-up included. */
  non2xx: number;
  /** Transport errors (connection reset, timeout…) over the whole run. */
  errors: number;
  statuses: Record<string, number>;
  /**
   * 2xx response bodies from the measured window (every SAMPLE_EVERY-th, at most MAX_SAMPLES), for
   * the orchestrator's checks; in count mode, from the whole run.
   */
  samples: string[];
  /** The first few non-2xx bodies / error messages. */
  failures: string[];
  /** CPU the load client itself used during the window, as a share of one core. */
  clientCpu: number;
  /** Open-loop mode: the offered rate (req/s) and the worst delay of a send behind its schedule. */
  offeredRate?: number;
  maxSendLagMs?: number;
  /**
   * Open-loop mode: requests of the window still unanswered OPEN_LOOP_DRAIN_MS after it closed;
   * their latency is the time waited so far (statuses.unanswered; not failures: the server is
   * overloaded, not wrong).
   */
  unanswered?: number;
}

const PATH = "/storage_rpc/v1";
const HEADERS = {"content-type": "application/json"};
const SAMPLE_EVERY = 200;
const MAX_SAMPLES = 20;
const MAX_FAILURES = 5;
/** Open loop: how long answers to the window's requests are awaited after it closes. */
const OPEN_LOOP_DRAIN_MS = 10_000;
/** Retrieve bodies are re-signed this often: Session accepts signatures up to 60 s old. */
const RESIGN_INTERVAL_MS = 30_000;

class Recorder {
  windowStart = Infinity;
  windowEnd = Infinity;
  readonly latencies: number[] = [];
  readonly statuses: Record<string, number> = {};
  non2xx = 0;
  errors = 0;
  readonly samples: string[] = [];
  readonly failures: string[] = [];
  private okInWindow = 0;

  /** `at` decides whether the request belongs to the window: its completion (closed loop) or its scheduled send (open loop). */
  record(t0: number, t1: number, status: number | null, at = t1): void {
    if (status === null) this.errors++;
    else if (status < 200 || status > 299) this.non2xx++;
    if (at < this.windowStart || at > this.windowEnd) return;
    this.latencies.push(t1 - t0);
    const key = status === null ? "error" : String(status);
    this.statuses[key] = (this.statuses[key] ?? 0) + 1;
  }

  /** Open loop: a request of the window still unanswered when the client stops waiting. */
  unanswered(t0: number, t1: number): void {
    this.latencies.push(t1 - t0);
    this.statuses.unanswered = (this.statuses.unanswered ?? 0) + 1;
  }

  /** Whether the next 2xx body should be kept as a sample (decided before reading it). */
  wantSample(now: number): boolean {
    if (now < this.windowStart || now > this.windowEnd || this.samples.length >= MAX_SAMPLES) return false;
    return this.okInWindow++ % SAMPLE_EVERY === 0;
  }

  fail(text: string): void {
    if (this.failures.length < MAX_FAILURES) this.failures.push(text.slice(0, 500));
  }
}

/** One request; returns the status (null on a transport error). The body is always consumed. */
async function once(pool: Pool, out: Outgoing, rec: Recorder): Promise<number | null> {
  try {
    const res = await pool.request({path: out.path, method: "POST", headers: HEADERS, body: out.body});
    if (out.open !== undefined && res.statusCode === 200) return opened(out.open(await res.body.text()), rec);
    const ok = res.statusCode >= 200 && res.statusCode <= 299;
    if (!ok) rec.fail(`HTTP ${res.statusCode}: ${await res.body.text()}`);
    else if (rec.wantSample(performance.now())) rec.samples.push(await res.body.text());
    else await res.body.arrayBuffer();
    return res.statusCode;
  } catch (err) {
    rec.fail(`transport error: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}

/** The final hop's answer counts as the request's status (the HTTP 200 only says the path worked). */
function opened(inner: {status: number; body: string}, rec: Recorder): number {
  const ok = inner.status >= 200 && inner.status <= 299;
  if (!ok) rec.fail(`final hop ${inner.status}: ${inner.body}`);
  else if (rec.wantSample(performance.now())) rec.samples.push(inner.body);
  return inner.status;
}

async function loop(pool: Pool, next: () => Outgoing | null, rec: Recorder): Promise<void> {
  for (let body = next(); body !== null; body = next()) {
    const t0 = performance.now();
    const status = await once(pool, body, rec);
    rec.record(t0, performance.now(), status);
  }
}

/** The body source for a spec; `dispose` stops the re-signing timer. */
async function outgoingSource(spec: LoadSpec): Promise<{next: () => Outgoing; dispose: () => void}> {
  const source = await bodySource(spec);
  if (spec.onion !== true) return {next: () => ({path: PATH, body: source.next()}), dispose: source.dispose};
  return {next: await onionSource(spec.url, source.next), dispose: source.dispose};
}

async function bodySource(spec: LoadSpec): Promise<{next: () => string; dispose: () => void}> {
  if (spec.accounts === "pq") {
    const accounts = await pqAccounts(spec.seed, spec.accountCount);
    if (spec.workload === "store") return {next: storeBodies(accounts.map((a) => a.id)), dispose: () => {}};
    return resigned(() => pqRetrieveBodies(accounts));
  }
  if (spec.workload === "store") {
    const accounts =
      spec.accounts === "plain"
        ? plainAccounts(spec.seed, spec.accountCount)
        : signingAccounts(spec.seed, spec.accountCount).map((a) => a.hex);
    return {next: storeBodies(accounts), dispose: () => {}};
  }
  const accounts = signingAccounts(spec.seed, spec.accountCount);
  return resigned(() => retrieveBodies(accounts));
}

/** Round-robin over bodies that `sign` re-creates every RESIGN_INTERVAL_MS (fresh timestamps). */
function resigned(sign: () => string[]): {next: () => string; dispose: () => void} {
  let bodies = sign();
  const timer = setInterval(() => (bodies = sign()), RESIGN_INTERVAL_MS);
  let i = 0;
  return {next: () => bodies[i++ % bodies.length] as string, dispose: () => clearInterval(timer)};
}

function summarize(rec: Recorder, seconds: number, cpuSeconds: number, completed?: number): LoadResult {
  const sorted = Float64Array.from(rec.latencies).sort();
  return {
    requests: sorted.length,
    seconds: round(seconds, 3),
    reqPerSec: round((completed ?? sorted.length) / seconds),
    p50Ms: round(percentile(sorted, 50), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    non2xx: rec.non2xx,
    errors: rec.errors,
    statuses: rec.statuses,
    samples: rec.samples,
    failures: rec.failures,
    clientCpu: round(cpuSeconds / seconds, 2),
  };
}

/** Timed mode: warm-up, then the window; `measure`/`done` phase lines let the parent sample CPU. */
async function runTimed(spec: LoadSpec, pool: Pool, next: () => Outgoing): Promise<LoadResult> {
  const rec = new Recorder();
  let stop = false;
  let cpuAtStart = process.cpuUsage();
  const warmup = setTimeout(() => {
    rec.windowStart = performance.now();
    cpuAtStart = process.cpuUsage();
    writeMessage({type: "phase", phase: "measure"});
  }, spec.warmupSeconds * 1000);
  const end = setTimeout(() => {
    rec.windowEnd = performance.now();
    stop = true;
    writeMessage({type: "phase", phase: "done"});
  }, (spec.warmupSeconds + spec.seconds) * 1000);
  const source = (): Outgoing | null => (stop ? null : next());
  await Promise.all(Array.from({length: spec.connections}, () => loop(pool, source, rec)));
  clearTimeout(warmup);
  clearTimeout(end);
  const cpu = process.cpuUsage(cpuAtStart);
  return summarize(rec, (rec.windowEnd - rec.windowStart) / 1000, (cpu.user + cpu.system) / 1e6);
}

/**
 * Open-loop mode: request i is due at start + i / rate and is sent then (or, if the client's event
 * loop was late, at once, and the lag counts in its latency). The window holds the requests
 * scheduled inside it; after it closes, their answers are awaited so that slow ones are counted,
 * not dropped. The achieved rate is the 2xx answers that arrived inside the window, per second.
 */
async function runOpen(spec: LoadSpec, rate: number, pool: Pool, next: () => Outgoing): Promise<LoadResult> {
  const rec = new Recorder();
  const interval = 1000 / rate;
  const start = performance.now();
  rec.windowStart = start + spec.warmupSeconds * 1000;
  rec.windowEnd = rec.windowStart + spec.seconds * 1000;
  let cpuAtStart = process.cpuUsage();
  let completed = 0;
  let maxLag = 0;
  const inFlight = new Map<Promise<void>, number>();
  let drained = false;
  const send = (scheduled: number): void => {
    const p = once(pool, next(), rec).then((status) => {
      if (drained) return;
      const t1 = performance.now();
      rec.record(scheduled, t1, status, scheduled);
      if (status !== null && status >= 200 && status <= 299 && t1 >= rec.windowStart && t1 <= rec.windowEnd) completed++;
      inFlight.delete(p);
    });
    inFlight.set(p, scheduled);
  };
  const drain = async (pending: Map<Promise<void>, number>, ms: number): Promise<number[]> => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([Promise.all(pending.keys()), limit]);
    clearTimeout(timer);
    drained = true;
    return [...pending.values()];
  };
  const phases = [
    setTimeout(() => {
      cpuAtStart = process.cpuUsage();
      writeMessage({type: "phase", phase: "measure"});
    }, spec.warmupSeconds * 1000),
    setTimeout(() => writeMessage({type: "phase", phase: "done"}), (spec.warmupSeconds + spec.seconds) * 1000),
  ];
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      for (let due = start + i * interval; due <= now && due < rec.windowEnd; due = start + ++i * interval) {
        maxLag = Math.max(maxLag, now - due);
        send(due);
      }
      const due = start + i * interval;
      if (due >= rec.windowEnd) resolve();
      else setTimeout(tick, Math.max(0, due - performance.now()));
    };
    tick();
  });
  const cpu = process.cpuUsage(cpuAtStart);
  const unanswered = await drain(inFlight, OPEN_LOOP_DRAIN_MS);
  // Requests still unanswered count with the time they have waited so far: a lower bound, kept
  // so that an overloaded server's p99 is not flattered by dropping its slowest requests.
  const stopped = performance.now();
  for (const scheduled of unanswered) rec.unanswered(scheduled, stopped);
  phases.forEach(clearTimeout);
  const result = summarize(rec, spec.seconds, (cpu.user + cpu.system) / 1e6, completed);
  return {...result, offeredRate: rate, maxSendLagMs: round(maxLag, 2), unanswered: unanswered.length};
}

async function runCounted(spec: LoadSpec, total: number, pool: Pool, next: () => Outgoing): Promise<LoadResult> {
  const rec = new Recorder();
  rec.windowStart = 0;
  let sent = 0;
  const source = (): Outgoing | null => (sent++ < total ? next() : null);
  const t0 = performance.now();
  const cpuAtStart = process.cpuUsage();
  await Promise.all(Array.from({length: spec.connections}, () => loop(pool, source, rec)));
  const cpu = process.cpuUsage(cpuAtStart);
  return summarize(rec, (performance.now() - t0) / 1000, (cpu.user + cpu.system) / 1e6);
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const pool = new Pool(spec.url, {connections: spec.connections, pipelining: 1});
  const source = await outgoingSource(spec);
  try {
    if (spec.totalRequests !== undefined) return await runCounted(spec, spec.totalRequests, pool, source.next);
    return spec.rate === undefined ? await runTimed(spec, pool, source.next) : await runOpen(spec, spec.rate, pool, source.next);
  } finally {
    source.dispose();
    // destroy, not close: an open-loop run may leave requests to an overloaded server unanswered.
    await (spec.rate === undefined ? pool.close() : pool.destroy());
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
  const result = await runLoad(spec);
  writeMessage({type: "result", result});
}
