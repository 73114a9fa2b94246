import {closeSync, openSync, statfsSync, writeSync} from "node:fs";
import {join} from "node:path";

/** Bytes an unprivileged writer may still use on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Another program filling the disk: appends to `<dir>/filler` until ENOSPC. */
export function fillDisk(dir: string): void {
  const fd = openSync(join(dir, "filler"), "a");
  const chunk = Buffer.alloc(64 * 1024, 0xff);
  try {
    for (;;) writeSync(fd, chunk, 0, Math.max(1, Math.min(chunk.length, freeBytes(dir))));
  } catch (err) {
    if ((err as {code?: string}).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}
