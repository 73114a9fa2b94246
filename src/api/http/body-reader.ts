import type {IncomingMessage} from "node:http";
import type {Socket} from "node:net";

const SECOND_MS = 1000;
const MIB = 1024 * 1024;

/**
 * After an early 413/503 the node keeps reading (and discarding) the rest of the upload for at most
 * this long and this many bytes, so the client reads the answer instead of a reset connection.
 */
export const LINGER_MS = 10 * SECOND_MS;
export const LINGER_BYTES = 16 * MIB;
/** …and stops as soon as the client has sent nothing for this long (a stalled upload is not waited for). */
export const LINGER_IDLE_MS = 2 * SECOND_MS;

/** Body storage blocks: the first of a body without Content-Length, and the largest. */
const BLOCK_MIN_BYTES = 16 * 1024;
const BLOCK_MAX_BYTES = 256 * 1024;

/** Errors the reader hands to fastify; the app's error handler turns them into answers. */
export class BodyError extends Error {
  constructor(
    readonly statusCode: 408 | 413 | 503,
    readonly code: "BODY_TIMEOUT" | "BODY_TOO_LARGE" | "BODY_BUDGET_EXHAUSTED",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Bytes of request bodies the node holds at once, over all requests. Charged block by block as
 * the body arrives (a declared Content-Length reserves nothing) and released when the request
 * ends, whether answered or aborted.
 */
export class BodyBudget {
  #used = 0;
  #peak = 0;
  #refusals = 0;

  /**
   * `drained` is told when the bytes held fall back to zero after having reached
   * `drained.afterBytes` (the end of a burst), with the most held meanwhile.
   */
  constructor(
    readonly limitBytes: number,
    private readonly drained?: {afterBytes: number; notify: (peakBytes: number) => void},
  ) {}

  take(n: number): boolean {
    if (this.#used + n > this.limitBytes) {
      this.#refusals += 1;
      return false;
    }
    this.#used += n;
    this.#peak = Math.max(this.#peak, this.#used);
    return true;
  }

  release(n: number): void {
    this.#used = Math.max(0, this.#used - n);
    if (this.#used > 0) return;
    const peak = this.#peak;
    this.#peak = 0;
    if (this.drained !== undefined && peak >= this.drained.afterBytes) this.drained.notify(peak);
  }

  get usedBytes(): number {
    return this.#used;
  }

  get refusals(): number {
    return this.#refusals;
  }
}

export interface BodyReaderOptions {
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  bodyIdleTimeoutMs: number;
}

/**
 * Reads a request body into Buffers, never strings (fastify's `parseAs: "string"` concatenates
 * string chunks in V8's heap, which did not shrink after an attack). `onHeld` reports the bytes
 * charged to `budget`, which the caller releases when the request is over (the body lives until
 * the handler is done with it).
 */
export function readBody(
  raw: IncomingMessage,
  opts: BodyReaderOptions,
  budget: BodyBudget,
  done: (err: BodyError | null, body?: Buffer) => void,
  onHeld: (bytes: number) => void,
): void {
  const declared = Number(raw.headers["content-length"] ?? Number.NaN);
  if (Number.isSafeInteger(declared) && declared > opts.bodyLimitBytes) {
    done(new BodyError(413, "BODY_TOO_LARGE", "Request body too large"));
    return;
  }
  const hasLength = Number.isSafeInteger(declared) && declared >= 0;
  const chunks: Buffer[] = [];
  let received = 0;
  let block: Buffer | null = null;
  let used = 0;
  // Copied into blocks of our own, charged to the budget as they are allocated: a chunk is a
  // slice of the socket's 64 KiB read buffer, so keeping 1-byte chunks of a trickled body would
  // hold 64 KiB each while counting 1. Blocks grow with the body, up to BLOCK_MAX_BYTES (above
  // glibc's mmap threshold when MALLOC_MMAP_THRESHOLD_ pins it, so a freed block leaves RSS).
  const nextBlockBytes = (): number => {
    const want = hasLength ? declared - received : Math.max(BLOCK_MIN_BYTES, received);
    return Math.max(1, Math.min(BLOCK_MAX_BYTES, want));
  };
  /** False when the budget cannot cover the next block. */
  const store = (chunk: Buffer): boolean => {
    let off = 0;
    while (off < chunk.length) {
      if (block === null || used === block.length) {
        const size = nextBlockBytes();
        if (!budget.take(size)) return false;
        onHeld(size);
        block = Buffer.allocUnsafeSlow(size);
        used = 0;
        chunks.push(block);
      }
      const n = chunk.copy(block, used, off);
      used += n;
      off += n;
      received += n;
    }
    return true;
  };
  let finished = false;

  const finish = (err: BodyError | null, body?: Buffer): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    raw.off("data", onData);
    raw.off("end", onEnd);
    raw.off("error", onAbort);
    raw.off("aborted", onAbort);
    chunks.length = 0;
    done(err, body);
  };
  // One timer for both limits, re-armed only when it fires: arming and clearing two timers per
  // request, and the idle one again per chunk, was ~2 % of a store's main-thread time at load.
  const started = Date.now();
  const deadlineAt = started + opts.requestTimeoutMs;
  let lastDataAt = started;
  const check = (): void => {
    const now = Date.now();
    if (now >= deadlineAt) return finish(new BodyError(408, "BODY_TIMEOUT", `request body not received within ${opts.requestTimeoutMs} ms`));
    const idleAt = lastDataAt + opts.bodyIdleTimeoutMs;
    if (now >= idleAt) return finish(new BodyError(408, "BODY_TIMEOUT", `no request body bytes for ${opts.bodyIdleTimeoutMs} ms`));
    timer = setTimeout(check, Math.min(deadlineAt, idleAt) - now);
  };
  let timer = setTimeout(check, Math.min(opts.requestTimeoutMs, opts.bodyIdleTimeoutMs));

  const onData = (chunk: Buffer): void => {
    if (received + chunk.length > opts.bodyLimitBytes) return finish(new BodyError(413, "BODY_TOO_LARGE", "Request body too large"));
    if (!store(chunk)) {
      return finish(new BodyError(503, "BODY_BUDGET_EXHAUSTED", "Node busy: too many request bodies in transit, retry later"));
    }
    lastDataAt = Date.now();
  };
  const onEnd = (): void => {
    const body = chunks.length === 1 ? chunks[0]!.subarray(0, received) : Buffer.concat(chunks, received);
    finish(null, body);
  };
  const onAbort = (): void => finish(new BodyError(408, "BODY_TIMEOUT", "request aborted"));
  raw.on("data", onData);
  raw.on("end", onEnd);
  raw.on("error", onAbort);
  raw.on("aborted", onAbort);
}

/**
 * Lingering close after an early answer: the rest of the upload is read and discarded (node's
 * http server does that once the answer is sent) for at most `LINGER_MS` and `LINGER_BYTES`, then
 * the socket is destroyed. Closing at once would reset the connection with the upload's bytes
 * unread, and the client would see ECONNRESET/EPIPE instead of the answer.
 */
export function lingerThenClose(
  raw: IncomingMessage,
  limits: {ms: number; idleMs: number; bytes: number} = {ms: LINGER_MS, idleMs: LINGER_IDLE_MS, bytes: LINGER_BYTES},
): void {
  const socket: Socket = raw.socket;
  if (raw.complete || socket.destroyed) return;
  const startBytes = socket.bytesRead;
  const started = Date.now();
  let lastBytes = startBytes;
  let lastChange = started;
  const check = setInterval(() => {
    if (raw.complete || socket.destroyed) return stop();
    const now = Date.now();
    if (socket.bytesRead !== lastBytes) {
      lastBytes = socket.bytesRead;
      lastChange = now;
    }
    if (lastBytes - startBytes > limits.bytes || now - started > limits.ms || now - lastChange > limits.idleMs) {
      stop();
      socket.destroy();
    }
  }, 100);
  check.unref();
  const stop = (): void => {
    clearInterval(check);
    socket.off("close", stop);
  };
  socket.on("close", stop);
}
