// Loaded with `node --import` into a child process whose memory a test measures: when the
// process exits, its peak resident set size (VmHWM from /proc, in kB) is written to the
// file named by PEAK_RSS_FILE.
import { readFileSync, writeFileSync } from "node:fs";

process.on("exit", () => {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  writeFileSync(process.env.PEAK_RSS_FILE, `${kb ?? ""}\n`);
});
