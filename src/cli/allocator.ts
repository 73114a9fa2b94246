/**
 * glibc's malloc setting for a node process. It must be in the environment when the process starts
 * (glibc reads it at its first allocation, before any JavaScript runs), so every launcher we ship
 * sets it: `npm start`, the devnet's node processes and the Docker image (docs/configuration.md,
 * "HTTP hardening"; a test checks they agree).
 *
 * Why: glibc serves allocations below its mmap threshold (128 KiB at start, raised up to 32 MiB each
 * time a larger mmapped block is freed) from its heap, and returns heap memory to the OS only from
 * the top. Once one 10 MiB body was freed, every 256 KiB body block came from the heap, and after a
 * burst of stalled uploads (and a full GC) RSS stayed ~75-100 MiB above its baseline. Pinned at
 * 128 KiB (glibc's own start value, so small allocations are served exactly as before), body blocks
 * are mmapped and unmapped on free: ~25-50 MiB stayed (the socket's body chunks, up to 64 KiB each,
 * still fragment the heap). Lower pins returned RSS fully (32 KiB: to the baseline) but cost 2.3x
 * (64 KiB) and 3x (32 KiB) the server CPU per stored message (mmap/munmap per socket read; measured
 * on 2 shared cores, docs/configuration.md "HTTP hardening").
 */
export const MALLOC_ENV: Readonly<Record<string, string>> = {MALLOC_MMAP_THRESHOLD_: "131072"};

/** Variables by which an operator already chose a threshold (theirs is kept). */
const MALLOC_SETTINGS = ["MALLOC_MMAP_THRESHOLD_"];

/** `env` with `MALLOC_ENV` added, unless the operator set the threshold already. */
export function withMallocEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return hasMallocSetting(env) ? env : {...env, ...MALLOC_ENV};
}

function hasMallocSetting(env: NodeJS.ProcessEnv): boolean {
  if (MALLOC_SETTINGS.some((name) => env[name] !== undefined)) return true;
  return (env.GLIBC_TUNABLES ?? "").includes("glibc.malloc.mmap_threshold");
}

/**
 * The hint `pars-storage start` logs when it runs on glibc without the setting (e.g. started by a
 * systemd unit or a global install). The process cannot fix it itself: it is too late once node
 * runs, and re-executing node with it would leave a second process (~40 MiB) that must forward
 * signals while systemd or a terminal also signal the child directly (a second SIGTERM/SIGINT
 * skips the graceful close). Null when no hint is due.
 */
export function mallocHint(env: NodeJS.ProcessEnv, glibc: () => string | undefined = glibcVersion): string | null {
  if (hasMallocSetting(env) || glibc() === undefined) return null;
  const [name, value] = Object.entries(MALLOC_ENV)[0]!;
  return (
    `${name} is not set: after a burst of large request bodies glibc keeps the freed memory (RSS stays up to ` +
    `~100 MiB above its baseline); start the node with ${name}=${value} (docs/configuration.md, "HTTP hardening")`
  );
}

/** glibc's version when node runs on glibc (not musl, macOS, Windows). */
export function glibcVersion(): string | undefined {
  if (process.platform !== "linux") return undefined;
  // ~40 ms, once at start (before the node opens sockets, whose names the report would look up).
  const report = process.report.getReport() as {header?: {glibcVersionRuntime?: string}};
  return report.header?.glibcVersionRuntime;
}
