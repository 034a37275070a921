/**
 * Guest-kernel tier: a pcap-filter expression at function probes, where this host cannot
 * go (no kprobes, fentry refused). In Debian 6.1 (kprobe) and 6.12 (fentry) the CLI traces
 * four IP functions and the tracepoints with `icmp[icmptype] == icmp-echo` while 127.0.0.1
 * is pinged: only the echo requests may show, at __ip_local_out and ip_output (no link
 * header yet: the raw-IP form) as at ip_rcv (the loopback header: the Ethernet form).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, describeEvents } from '../helpers/netns.js';
import type { TraceEvent } from '../helpers/netns.js';

const GUEST = join(REPO_ROOT, 'scripts/vm/guest.sh');
const OUT_DIR = join(REPO_ROOT, '.guest-results');
const FUNCS = '^(ip_rcv|ip_output|__ip_local_out|icmp_rcv)$';

function cannotRun(): string | null {
  if (process.geteuid?.() !== 0) return 'needs root (QEMU, BPF inside the guest)';
  if (!existsSync(join(REPO_ROOT, 'build/pktpath.bpf.o'))) return 'BPF object not built';
  const check = spawnSync(GUEST, ['--check'], { encoding: 'utf8' });
  if (check.status !== 0) return `guest harness cannot run: ${(check.stdout + check.stderr).trim() || `exit ${check.status}`}`;
  return null;
}
const why = cannotRun();

/** The trace's --json events and stderr, from a run inside the guest. */
function traceInGuest(kernel: string, backend: string): { events: TraceEvent[]; stderr: string } {
  mkdirSync(OUT_DIR, { recursive: true });
  const out = join(OUT_DIR, `pcap-${kernel}-${backend}.json`);
  const err = `${out}.err`;
  rmSync(out, { force: true });
  const script = [
    `./bin/pktpath trace --json --backend ${backend} --func '${FUNCS}' 'icmp[icmptype] == icmp-echo' > ${out} 2> ${err} &`,
    'p=$!; i=0',
    `until grep -q ready ${err} || [ $i -gt 300 ]; do sleep 1; i=$((i+1)); done`,
    'ping -c 3 -i 0.3 127.0.0.1 > /dev/null; sleep 3; kill -INT $p; wait $p',
  ].join('\n');
  const r = spawnSync(GUEST, ['--kernel', kernel, '--', 'sh', '-c', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 15 * 60_000 });
  const stderr = existsSync(err) ? readFileSync(err, 'utf8') : '';
  if (!existsSync(out)) throw new Error(`guest ${kernel} wrote no events (exit ${r.status}): ${stderr}${(r.stdout + r.stderr).slice(-2000)}`);
  const events = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TraceEvent);
  return { events, stderr };
}

for (const [kernel, backend] of [
  ['6.1', 'kprobe'],
  ['6.12', 'fentry'],
] as const) {
  test(`${kernel} ${backend}: the expression runs in function probes too`, { skip: why ?? false, timeout: 20 * 60_000 }, () => {
    const { events, stderr } = traceInGuest(kernel, backend);
    assert.match(stderr, new RegExp(`functions via ${backend.replace('.', '\\.')}`), stderr);
    const dump = describeEvents(events);
    const wrong = events.filter((ev) => ev.tuple?.proto !== 'icmp' || ev.tuple.icmp_type !== 8);
    assert.deepEqual(wrong, [], `only echo requests:\n${describeEvents(wrong)}`);
    for (const probe of ['__ip_local_out', 'ip_output', 'ip_rcv', 'net_dev_queue', 'netif_receive_skb']) {
      assert.ok(events.filter((ev) => ev.probe === probe).length >= 3, `three requests at ${probe}:\n${dump}`);
    }
  });
}
