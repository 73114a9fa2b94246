/** Messages between the proof service's WorkerEngine and the commitment worker. */
import type {LiveLeaf} from "./answerer.js";
import type {RefreshRequest} from "./engine.js";

export interface EngineWorkerData {
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly sliceBudgetMs: number;
  /** Persist the commitment in the database (migration 0008) and start from the persisted one. */
  readonly persist?: boolean;
}

export type EngineRequest = {readonly id: number} & (
  | {readonly op: "refresh"; readonly req: RefreshRequest}
  | {readonly op: "publish"; readonly timestamp: number}
  | {readonly op: "find"; readonly timestamp: number; readonly messageHash: string; readonly live: LiveLeaf}
  | {readonly op: "memory"; readonly gc: boolean}
  // Resolves (true) once the last refresh's commitment is written, false if that write failed.
  | {readonly op: "flush"}
  // LocalEngine.adopt: the persisted commitment taken over as the published one for `timestamp`.
  | {readonly op: "adopt"; readonly timestamp: number}
  | {readonly op: "close"}
);

/** The worker isolate's memory (benchmarks and diagnostics: RSS is the process's, every thread). */
export interface WorkerMemory {
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** V8's heap limit in the worker (bytes): its resource limits (engine-host.ts). */
  readonly heapLimit: number;
  /** The young generation the worker was started with (MB; engine-host.ts chooses it by the node's size). */
  readonly youngGenerationMb: number;
  /** Whether a major GC ran first (false if V8 refused to hand its gc over). */
  readonly collected: boolean;
  /** Major GCs the worker ran (asked for here, or during and after a full build with nothing published). */
  readonly gcs: number;
  /** How long the last one took (ms; 0: none yet). */
  readonly lastGcMs: number;
}

/**
 * id 0 is the worker's "ready" once its connection is open; id -1 a refresh's progress
 * (RefreshProgress); id -2 a failed write of the commitment (`error`; the refresh went on).
 */
export type EngineReply = {readonly id: number} & (
  | {readonly ok: true; readonly value: unknown}
  // notReady: a ProofError NOT_READY (a bucket being read again, persisted.ts), 503 to the challenger.
  | {readonly ok: false; readonly error: string; readonly notReady?: boolean}
);
