/**
 * Where an epoch's refresh goes on a kept fixture (bench/proofs-fixture.ts), in this thread: a
 * LocalEngine loads the persisted commitment, then BENCH_PROOF_CHURN (100,000) random messages get
 * a new expiry and the refresh after them is timed (publication: when the engine returns the new
 * commitment; persisted: when its records are on disk) and, with BENCH_PROOF_PROFILE=<file>, CPU
 * profiled (node:inspector; open the .cpuprofile in Chrome DevTools, or BENCH_PROOF_PROFILE_TOP=30
 * prints the functions with the most self time; BENCH_PROOF_PROFILE_UNTIL=published stops it when
 * the refresh returns, leaving its write out).
 *
 *   BENCH_PROOF_DB=/work/tmp/proofs-10m-churn.sqlite BENCH_PROOF_PROFILE=/tmp/churn.cpuprofile \
 *     nice -n 5 node dist/bench/proofs-churn-profile.js
 *
 * The file stays a valid node database (the refreshes persist and trim the log), as with the fixture.
 */
import {Session} from "node:inspector/promises";
import {writeFileSync} from "node:fs";
import {loadavg} from "node:os";
import {initHashing} from "../src/crypto/hash.js";
import {LocalEngine} from "../src/proofs/index.js";
import {CommitmentStore, ProofTables, StorageDb} from "../src/storage/index.js";
import {dirty, logged, timed} from "./proofs-measure.js";
import {threadTicks} from "./trace-common.js";
import {envNumber, round} from "./util.js";

interface ProfileNode {
  id: number;
  callFrame: {functionName: string; url: string; lineNumber: number};
  hitCount?: number;
}

/** Self time per function (name and file), largest first. */
function topSelf(profile: {nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]}, count: number): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    if (n === undefined) return;
    const key = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([k, ms]) => `${round(ms).toString().padStart(8)} ms  ${k}`);
}

async function main(): Promise<void> {
  await initHashing();
  const path = process.env.BENCH_PROOF_DB ?? "/work/tmp/proofs-10m-churn.sqlite";
  const db = StorageDb.open({path, synchronous: "normal", busyTimeoutMs: 5_000, hardLimitBytes: 2 ** 42, migrationsDir: null}, Date.now());
  const tables = new ProofTables(db);
  const store = CommitmentStore.open(path, 5_000);
  const header = store.header();
  if (header === null) throw new Error(`${path} holds no persisted commitment`);
  const n = header.messageCount;
  let timestamp = header.timestamp;
  const engine = new LocalEngine(tables.reader, {sliceBudgetMs: 10, store, onPersistError: (err) => console.error("persist failed", err)});
  const cpu = (since: NodeJS.CpuUsage): number => round((process.cpuUsage(since).user + process.cpuUsage(since).system) / 1000);
  try {
    const load = await timed(() => engine.refresh(logged(tables, ++timestamp)));
    await engine.flushed();
    console.log(`load + first refresh: ${round(load.ms)} ms (load ${round(load.value?.loadedMs ?? 0)} ms), load average ${loadavg()[0]?.toFixed(1)}`);
    // Checked once here, so the profiled refresh is an epoch's, not the first after a load.
    await timed(() => engine.refresh(logged(tables, ++timestamp)));
    await engine.flushed();
    dirty(db, n, {messages: Math.round(envNumber("BENCH_PROOF_CHURN", 100_000))});
    tables.takeUpdatedHashes();
    const profilePath = process.env.BENCH_PROOF_PROFILE;
    const session = new Session();
    if (profilePath !== undefined) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", {interval: 200});
      await session.post("Profiler.start");
    }
    const cpu0 = process.cpuUsage();
    const ticks0 = threadTicks().get("main") ?? 0;
    const t0 = performance.now();
    const r = await engine.refresh(logged(tables, ++timestamp));
    const publishedMs = performance.now() - t0;
    const publishedCpuMs = cpu(cpu0);
    // This (the engine's) thread alone; publishedCpuMs is the whole process's.
    const publishedThreadCpuMs = ((threadTicks().get("main") ?? 0) - ticks0) * 10;
    // BENCH_PROOF_PROFILE_UNTIL=published: the profile covers the refresh alone, not its write.
    const untilPublished = process.env.BENCH_PROOF_PROFILE_UNTIL === "published";
    const stopped = profilePath !== undefined && untilPublished ? await session.post("Profiler.stop") : null;
    await engine.flushed();
    const persistedMs = performance.now() - t0;
    const persistedCpuMs = cpu(cpu0);
    if (profilePath !== undefined) {
      const {profile} = stopped ?? (await session.post("Profiler.stop"));
      writeFileSync(profilePath, JSON.stringify(profile));
      const top = envNumber("BENCH_PROOF_PROFILE_TOP", 0);
      if (top > 0) console.log(topSelf(profile as unknown as Parameters<typeof topSelf>[0], top).join("\n"));
      session.disconnect();
    }
    console.log(
      JSON.stringify({messages: n, rebuilt: r?.stats.rebuilt, publishedMs: round(publishedMs), publishedCpuMs, publishedThreadCpuMs, persistedMs: round(persistedMs), persistedCpuMs, loadAverage: loadavg().map((l) => l.toFixed(1)).join(" ")}),
    );
  } finally {
    await engine.close();
    store.close();
    db.close();
  }
}

await main();
