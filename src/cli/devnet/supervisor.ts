/**
 * Keeps a running devnet's nodes up, one at a time: a node that exits without being asked to is
 * restarted in place (same key, data dir, config.json and so the same port) after a back-off, and
 * the others keep running. An operator (or a test) stops, kills and starts single nodes through
 * `control.ts`; a node stopped or killed that way stays down until started.
 */
import path from "node:path";
import {NODE_LOG_FILE_NAME} from "./layout.js";
import {spawnNode, stopAll, waitListening, type NodeProcess} from "./children.js";

/** First restart delay after a crash; doubles per crash in a row up to RESTART_MAX_MS. */
export const RESTART_INITIAL_MS = 500;
export const RESTART_MAX_MS = 10_000;
/** A node that stayed up this long counts as healthy again: its next crash restarts after RESTART_INITIAL_MS. */
const HEALTHY_AFTER_MS = 30_000;
const START_TIMEOUT_MS = 60_000;

export type NodeState = "running" | "starting" | "backoff" | "stopped";

export interface NodeExit {
  readonly atMs: number;
  readonly code: number | null;
  readonly signal: string | null;
  /** True when the supervisor had not asked the node to stop (it crashed or was killed from outside). */
  readonly unexpected: boolean;
}

export interface NodeStatus {
  readonly name: string;
  readonly url: string;
  readonly pid: number | null;
  readonly state: NodeState;
  readonly restarts: number;
  readonly exits: readonly NodeExit[];
}

export interface SupervisorOptions {
  /** SIGTERM → SIGKILL delay of a stop. */
  readonly graceMs: number;
}

export interface SupervisorModules {
  /** The running nodes and their URLs, in node order. */
  readonly nodes: readonly NodeProcess[];
  readonly urls: readonly string[];
  /** Lines for the devnet's stderr (restarts, failures). */
  readonly log: (line: string) => void;
  /** Tests stub these; the defaults start real `pars-storage start` processes. */
  readonly spawn?: (name: string, dir: string) => NodeProcess;
  readonly waitListening?: (node: NodeProcess, timeoutMs: number) => Promise<string>;
  readonly nowMs?: () => number;
}

interface Slot {
  readonly name: string;
  readonly dir: string;
  readonly url: string;
  proc: NodeProcess | null;
  state: NodeState;
  /** Whether the operator wants it up: false after stop/kill until start. */
  wanted: boolean;
  restarts: number;
  crashesInARow: number;
  startedAtMs: number;
  timer: NodeJS.Timeout | null;
  readonly exits: NodeExit[];
}

export class DevnetSupervisor {
  private readonly slots: Slot[];
  private closed = false;

  constructor(
    private readonly opts: SupervisorOptions,
    private readonly modules: SupervisorModules,
  ) {
    const now = this.now();
    const {nodes, urls} = modules;
    this.slots = nodes.map((proc, i) => ({
      name: proc.name,
      dir: proc.dir,
      url: urls[i] ?? "",
      proc,
      state: "running",
      wanted: true,
      restarts: 0,
      crashesInARow: 0,
      startedAtMs: now,
      timer: null,
      exits: [],
    }));
    for (const slot of this.slots) this.watch(slot);
  }

  get size(): number {
    return this.slots.length;
  }

  status(): NodeStatus[] {
    return this.slots.map((s) => ({
      name: s.name,
      url: s.url,
      pid: s.state === "running" || s.state === "starting" ? (s.proc?.proc.pid ?? null) : null,
      state: s.state,
      restarts: s.restarts,
      exits: [...s.exits],
    }));
  }

  /** Stops node `index` (0-based) with SIGTERM (graceful) or SIGKILL; it stays down until `start`. */
  async stop(index: number, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    const slot = this.slot(index);
    slot.wanted = false;
    this.cancelTimer(slot);
    const proc = slot.proc;
    if (proc === null || !isRunning(proc)) {
      slot.state = "stopped";
      return;
    }
    if (signal === "SIGKILL") proc.proc.kill("SIGKILL");
    await stopAll([proc], signal === "SIGKILL" ? 0 : this.opts.graceMs);
    await proc.exited;
  }

  /** Starts node `index` now (also cancels a pending back-off); resolves once it listens again. */
  async start(index: number): Promise<void> {
    const slot = this.slot(index);
    slot.wanted = true;
    slot.crashesInARow = 0;
    if (slot.state === "running" || slot.state === "starting") return;
    this.cancelTimer(slot);
    await this.spawn(slot);
  }

  /** Stops every node (SIGTERM, then SIGKILL after the grace period) and all pending restarts. */
  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots) {
      slot.wanted = false;
      this.cancelTimer(slot);
    }
    await stopAll(this.slots.flatMap((s) => (s.proc === null ? [] : [s.proc])), this.opts.graceMs);
  }

  private slot(index: number): Slot {
    const slot = this.slots[index];
    if (slot === undefined) throw new RangeError(`no node ${index + 1} in a devnet of ${this.slots.length}`);
    return slot;
  }

  private watch(slot: Slot): void {
    const proc = slot.proc;
    if (proc === null) return;
    void proc.exited.then(({code, signal}) => {
      if (slot.proc !== proc) return;
      const unexpected = slot.wanted && !this.closed;
      slot.exits.push({atMs: this.now(), code, signal, unexpected});
      slot.proc = null;
      if (!unexpected) {
        slot.state = "stopped";
        return;
      }
      if (this.now() - slot.startedAtMs >= HEALTHY_AFTER_MS) slot.crashesInARow = 0;
      const delay = Math.min(RESTART_MAX_MS, RESTART_INITIAL_MS * 2 ** slot.crashesInARow);
      slot.crashesInARow++;
      slot.state = "backoff";
      this.modules.log(`pars-storage: ${slot.name} exited unexpectedly (code ${code}, signal ${signal}); restarting in ${delay} ms (see its ${NODE_LOG_FILE_NAME})`);
      slot.timer = setTimeout(() => {
        slot.timer = null;
        void this.spawn(slot).catch(() => undefined);
      }, delay);
    });
  }

  /** Spawns the node from its config.json (which holds the port it had) and waits for its listening line. */
  private async spawn(slot: Slot): Promise<void> {
    if (this.closed) return;
    slot.state = "starting";
    slot.startedAtMs = this.now();
    const proc = (this.modules.spawn ?? spawnNode)(slot.name, slot.dir);
    slot.proc = proc;
    slot.restarts++;
    this.watch(slot);
    try {
      const url = await (this.modules.waitListening ?? waitListening)(proc, START_TIMEOUT_MS);
      if (url !== slot.url) this.modules.log(`pars-storage: ${slot.name} came back on ${url}, not ${slot.url}; its record is stale`);
      if (slot.proc === proc) slot.state = "running";
      this.modules.log(`pars-storage: ${slot.name} restarted (pid ${proc.proc.pid})`);
    } catch (err) {
      // An exit before listening is handled by watch() (back-off); a hang is killed so it is too.
      if (isRunning(proc)) proc.proc.kill("SIGKILL");
      throw new Error(`${slot.name} did not come back: ${(err as Error).message}; see ${path.join(slot.dir, NODE_LOG_FILE_NAME)}`);
    }
  }

  private cancelTimer(slot: Slot): void {
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    if (slot.state === "backoff") slot.state = "stopped";
  }

  private now(): number {
    return (this.modules.nowMs ?? Date.now)();
  }
}

function isRunning(node: NodeProcess): boolean {
  return node.proc.exitCode === null && node.proc.signalCode === null;
}
