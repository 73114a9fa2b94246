import {setFlagsFromString} from "node:v8";
import {runInNewContext} from "node:vm";

/**
 * V8's full-GC function without starting node with `--expose-gc`: the flag makes V8 install `gc`
 * in contexts created afterwards, so a fresh vm context hands it over; the flag is then turned off
 * again. Works however the node was started (bin, Docker, systemd, tests), unlike a flag on the
 * command line or in NODE_OPTIONS. Null if this node's V8 refuses (frozen flags): memory is then
 * freed whenever V8 collects by itself. Used by the HTTP server's memory release and the
 * commitment worker's collections during a full build.
 */
export function loadGc(): (() => void) | null {
  const exposed = (globalThis as {gc?: unknown}).gc;
  if (typeof exposed === "function") return exposed as () => void;
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    setFlagsFromString("--no-expose-gc");
    return typeof gc === "function" ? (gc as () => void) : null;
  } catch {
    return null;
  }
}
