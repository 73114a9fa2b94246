/**
 * `membership.source = "registry"`: `GET <registryUrl>` polled on an interval (docs/PROTOCOL.md
 * Swarms §4). The registry is untrusted: whatever it answers (errors, garbage, a huge or endless
 * body, nothing at all) ends as a `failure` event, never as an exception, and the service keeps its
 * last good view. Every request has one deadline covering connect, headers and body.
 *
 * Schedule: the first poll at `start()`, then `pollIntervalMs` after each success; after a failure
 * 1 s, 2 s, 4 s, … capped at `pollIntervalMs` (so a registry that is down at boot is retried soon).
 */
import {createHash} from "node:crypto";
import type {Logger} from "../../util/index.js";
import {EventEmitter} from "node:events";
import {Agent, request, type Dispatcher} from "undici";
import {InvalidArgumentError} from "../../util/index.js";
import type {Clock} from "../../util/index.js";
import {CoalescedTask} from "../../util/index.js";
import {MEMBERSHIP_MAX_DOCUMENT_BYTES, type MembershipSource, type MembershipSourceEvents} from "./source.js";

/** First retry delay after a failed poll; doubles per failure up to the poll interval. */
export const REGISTRY_RETRY_START_MS = 1_000;
/** Idle keep-alive sockets to the registry are closed after this. */
const REGISTRY_KEEP_ALIVE_MS = 4_000;

export interface RegistrySourceOptions {
  /** http(s) URL of the membership document. */
  readonly url: string;
  readonly pollIntervalMs: number;
  /** Deadline of one request, connect to last body byte. */
  readonly requestTimeoutMs: number;
  /** Larger bodies are refused (default MEMBERSHIP_MAX_DOCUMENT_BYTES). */
  readonly maxBytes?: number;
}

export interface RegistrySourceModules {
  readonly logger: Logger;
  /** Drives the poll timers (default the system clock). */
  readonly clock?: Clock;
}

export class RegistrySource extends EventEmitter<MembershipSourceEvents> implements MembershipSource {
  readonly description: string;
  readonly #opts: Required<RegistrySourceOptions>;
  readonly #logger: Logger;
  readonly #agent: Agent;
  readonly #closing = new AbortController();
  readonly #task: CoalescedTask<boolean>;
  #lastHash: string | null = null;
  #closed = false;

  constructor(opts: RegistrySourceOptions, modules: RegistrySourceModules) {
    super();
    checkOptions(opts);
    this.#opts = {maxBytes: MEMBERSHIP_MAX_DOCUMENT_BYTES, ...opts};
    this.#logger = modules.logger;
    this.description = `registry ${opts.url}`;
    const timeout = opts.requestTimeoutMs;
    this.#agent = new Agent({
      connectTimeout: timeout,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: REGISTRY_KEEP_ALIVE_MS,
    });
    const interval = opts.pollIntervalMs;
    this.#task = new CoalescedTask({
      run: () => this.#poll(),
      failed: (ok) => !ok,
      intervalMs: interval,
      backoff: {initialMs: REGISTRY_RETRY_START_MS, factor: 2, maxMs: interval},
      ...(modules.clock === undefined ? {} : {clock: modules.clock}),
    });
  }

  start(): void {
    this.#task.schedule(0);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const polled = this.#task.close();
    this.#closing.abort();
    await polled;
    await this.#agent.close();
  }

  /** One poll; false if it failed. */
  async #poll(): Promise<boolean> {
    let text: string;
    try {
      text = await this.#fetch();
    } catch (err) {
      if (this.#closed) return true;
      this.emit("failure", {origin: this.#opts.url, reason: describeError(err, this.#opts.requestTimeoutMs)});
      return false;
    }
    const hash = createHash("sha256").update(text).digest("hex");
    if (this.#closed) return true;
    if (hash === this.#lastHash) {
      this.#logger.debug({url: this.#opts.url}, "membership document unchanged");
      return true;
    }
    this.#lastHash = hash;
    this.emit("document", {text, origin: this.#opts.url});
    return true;
  }

  async #fetch(): Promise<string> {
    const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#opts.requestTimeoutMs)]);
    const res = await request(this.#opts.url, {
      dispatcher: this.#agent,
      method: "GET",
      headers: {accept: "application/json"},
      signal,
    });
    // Errors surface through the reads below; without a listener, destroying an unread body
    // (error status, oversized) would emit an unhandled "error" event.
    res.body.on("error", () => undefined);
    try {
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} from the registry`);
      const declared = Number(res.headers["content-length"] ?? "0");
      if (declared > this.#opts.maxBytes) throw new Error(`document of ${declared} bytes exceeds ${this.#opts.maxBytes}`);
      return await readLimited(res.body, this.#opts.maxBytes);
    } finally {
      res.body.destroy(); // no-op once fully read; frees the socket on every error path
    }
  }
}

async function readLimited(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) throw new Error(`document exceeds ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === "TimeoutError") return `no complete answer within ${timeoutMs} ms`;
  const code = typeof err === "object" && err !== null && "code" in err ? ` (${String(err.code)})` : "";
  return `${err instanceof Error ? err.message : String(err)}${code}`;
}

function checkOptions(opts: RegistrySourceOptions): void {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new InvalidArgumentError(`registry URL is not a URL: ${opts.url}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError("registry URL must be http(s)");
  for (const [name, value] of [["pollIntervalMs", opts.pollIntervalMs], ["requestTimeoutMs", opts.requestTimeoutMs]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  }
}
