/**
 * `npm run chaos [-- --seed N --window-ms MS --no-disk-fault --keep]`: one seeded chaos round
 * (docs/chaos.md). Prints the seed, the schedule, the counts, the time to converge and each
 * check; exits 0 when every check held, 1 otherwise.
 */
import {randomInt} from "node:crypto";
import {DEFAULT_CHAOS, runChaos} from "./harness.js";

function parse(argv: readonly string[]): {seed: number; windowMs: number; diskFault: boolean; keep: boolean} {
  const out = {seed: randomInt(1, 2 ** 31 - 1), windowMs: DEFAULT_CHAOS.windowMs, diskFault: DEFAULT_CHAOS.diskFault, keep: false};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${arg} needs a non-negative integer`);
      return n;
    };
    if (arg === "--seed") out.seed = value();
    else if (arg === "--window-ms") out.windowMs = value();
    else if (arg === "--no-disk-fault") out.diskFault = false;
    else if (arg === "--keep") out.keep = true;
    else throw new Error(`unknown argument ${arg} (use --seed N, --window-ms MS, --no-disk-fault, --keep)`);
  }
  return out;
}

const args = parse(process.argv.slice(2));
console.log(`chaos: seed ${args.seed}`);
const report = await runChaos({...DEFAULT_CHAOS, ...args, log: (line) => console.log(`[${new Date().toISOString()}] ${line}`)});
for (const line of report.lines) console.log(line);
process.exitCode = report.ok ? 0 : 1;
