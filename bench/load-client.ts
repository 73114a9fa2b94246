/**
 * The benchmark's load generator, run as its own process (it must not share an event loop with the
 * server): `node dist/bench/load-client.js '<LoadSpec JSON>'`.
 *
 * `connections` request loops share one undici Pool (one connection each, no pipelining) and POST
 * to /storage_rpc/v1 back to back. Timed mode: a warm-up, then a measured window; only requests
 * completing inside the window count. Count mode (`totalRequests`): exactly that many requests,
 * used to prefill mailboxes. Progress and the result are JSON lines on stdout (see util.ts).
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
}

const PATH = "/storage_rpc/v1";
const HEADERS = {"content-type": "application/json"};
const SAMPLE_EVERY = 200;
const MAX_SAMPLES = 20;
const MAX_FAILURES = 5;
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

  record(t0: number, t1: number, status: number | null): void {
    if (status === null) this.errors++;
    else if (status < 200 || status > 299) this.non2xx++;
    if (t1 < this.windowStart || t1 > this.windowEnd) return;
    this.latencies.push(t1 - t0);
    const key = status === null ? "error" : String(status);
    this.statuses[key] = (this.statuses[key] ?? 0) + 1;
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

function summarize(rec: Recorder, seconds: number, cpuSeconds: number): LoadResult {
  const sorted = Float64Array.from(rec.latencies).sort();
  return {
    requests: sorted.length,
    seconds: round(seconds, 3),
    reqPerSec: round(sorted.length / seconds),
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
    return spec.totalRequests === undefined
      ? await runTimed(spec, pool, source.next)
      : await runCounted(spec, spec.totalRequests, pool, source.next);
  } finally {
    source.dispose();
    await pool.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
  const result = await runLoad(spec);
  writeMessage({type: "result", result});
}
