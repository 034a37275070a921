/**
 * `pktpath analyze` speed: packets per second reading a pcap from this machine's page
 * cache, for the readers alone and for the whole analysis (decode, flows, findings).
 * The capture is made on the fly (test/helpers/bulk.ts): 1M packets, 2000 TCP connections
 * open at once (5000 in all),
 * data frames cut at 96 bytes as `tcpdump -s 96` would. Median of 3 runs.
 *
 *   node dist/bench/analyze.js   ->   analyze_pkts_per_s=<n> analyze_cpu_pkts_per_s=<n> read_pkts_per_s=<n>
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { bulkPcap } from '../test/helpers/bulk.js';
import { readCapture } from '../src/capture/io/file.js';
import { analyzeFile } from '../src/capture/io/analyze.js';

const PACKETS = 1_000_000;

async function writeBulk(path: string): Promise<void> {
  const out = createWriteStream(path);
  for (const chunk of bulkPcap({ packets: PACKETS, concurrent: 2000, perFlow: 200 })) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Packets per second of wall time and of this process's CPU time (the machine is shared: CPU time is the steadier). */
async function rate(fn: () => Promise<number>): Promise<{ wall: number; cpu: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    const n = await fn();
    const used = process.cpuUsage(c);
    wall.push(n / (Number(process.hrtime.bigint() - t) / 1e9));
    cpu.push(n / ((used.user + used.system) / 1e6));
  }
  return { wall: Math.round(median(wall)), cpu: Math.round(median(cpu)) };
}

export interface AnalyzeBench {
  readonly analyzePktsPerS: number;
  readonly analyzeCpuPktsPerS: number;
  readonly readPktsPerS: number;
}

export async function benchAnalyze(): Promise<AnalyzeBench> {
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-bench-analyze-'));
  try {
    const file = join(dir, 'bulk.pcap');
    await writeBulk(file);
    const read = await rate(async () => {
      let n = 0;
      await readCapture(file, { packet: () => void n++ });
      return n;
    });
    const all = await rate(async () => (await analyzeFile(file)).capture.packets);
    return { analyzePktsPerS: all.wall, analyzeCpuPktsPerS: all.cpu, readPktsPerS: read.wall };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchAnalyze();
  process.stdout.write(`analyze_pkts_per_s=${r.analyzePktsPerS} analyze_cpu_pkts_per_s=${r.analyzeCpuPktsPerS} read_pkts_per_s=${r.readPktsPerS}\n`);
}
