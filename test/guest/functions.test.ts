/**
 * Guest-kernel tier: function-level backends on kernels that have them. Each case boots
 * a Debian kernel under QEMU (scripts/vm/guest.sh), runs test/guest/scenarios.ts inside
 * it with the real CLI, and asserts here on the recorded --json events.
 *
 *   6.12: --backend fentry (and --keep through DNAT), --backend kprobe.multi
 *   6.1:  --backend kprobe
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, describeEvents, tcpFlags } from '../helpers/netns.js';
import type { TraceEvent } from '../helpers/netns.js';
import { CLOSED_PORT, DNAT_REAL_PORT, DNAT_VIP_PORT, DROP_PORT } from './constants.js';
import type { GuestResults } from './constants.js';

const GUEST = join(REPO_ROOT, 'scripts/vm/guest.sh');
const OUT_DIR = join(REPO_ROOT, '.guest-results');
const RUNNER = join(REPO_ROOT, 'dist/test/guest/scenarios.js');

/** Why this tier cannot run here, or null. */
function cannotRun(): string | null {
  if (process.geteuid?.() !== 0) return 'needs root (QEMU, namespaces and BPF inside the guest)';
  if (!existsSync(RUNNER)) return 'dist/test/guest/scenarios.js not built';
  if (!existsSync(join(REPO_ROOT, 'build/pktpath.bpf.o'))) return 'BPF object not built';
  const check = spawnSync(GUEST, ['--check'], { encoding: 'utf8' });
  if (check.status !== 0) return `guest harness cannot run: ${(check.stdout + check.stderr).trim() || `exit ${check.status}`}`;
  return null;
}

const why = cannotRun();

function runGuest(kernel: string, backend: string, extra: string[]): GuestResults {
  mkdirSync(OUT_DIR, { recursive: true });
  const out = join(OUT_DIR, `${kernel}-${backend}.json`);
  rmSync(out, { force: true });
  const r = spawnSync(GUEST, ['--kernel', kernel, '--', 'node', RUNNER, backend, out, ...extra], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 20 * 60_000,
    maxBuffer: 64 << 20,
  });
  if (!existsSync(out)) {
    throw new Error(`guest ${kernel} produced no results (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-4000)}`);
  }
  return JSON.parse(readFileSync(out, 'utf8')) as GuestResults;
}

const isFunctionEvent = (ev: TraceEvent, name: string | RegExp): boolean =>
  typeof name === 'string' ? ev.probe === name : name.test(ev.probe);

function assertClosedPortPath(res: GuestResults, dump: string): void {
  const evs = res.runs.main!.result.events;
  const server = res.server.v4;
  const syn = (ev: TraceEvent): boolean =>
    ev.tuple?.proto === 'tcp' && ev.tuple.daddr === server && ev.tuple.dport === CLOSED_PORT && tcpFlags(ev).join(',') === 'SYN';
  const inServer = (ev: TraceEvent): boolean => ev.netns === res.server.inode;
  // function by function: ip_rcv ... tcp_v4_rcv ... the reset being sent ... the drop
  const ipRcv = evs.find((ev) => syn(ev) && inServer(ev) && isFunctionEvent(ev, 'ip_rcv'));
  assert.ok(ipRcv, `SYN not seen at ip_rcv in the server netns${dump}`);
  const skb = ipRcv.skb;
  const tcpRcv = evs.find((ev) => ev.skb === skb && isFunctionEvent(ev, 'tcp_v4_rcv'));
  assert.ok(tcpRcv, `the same skb not seen at tcp_v4_rcv${dump}`);
  const reset = evs.find((ev) => ev.skb === skb && isFunctionEvent(ev, /^(tcp_v4_send_reset|tcp_send_reset)$/));
  assert.ok(reset, `the reset being sent for that SYN (tcp_v4_send_reset / tcp_send_reset) not seen${dump}`);
  const rstOut = evs.find(
    (ev) => ev.tuple?.saddr === server && ev.tuple.sport === CLOSED_PORT && tcpFlags(ev).includes('RST') && inServer(ev) &&
      isFunctionEvent(ev, /^(ip_send_unicast_reply|ip_output|ip_finish_output2?|__dev_queue_xmit|dev_hard_start_xmit)$/),
  );
  assert.ok(rstOut, `the RST leaving the server through the output functions not seen${dump}`);
  const drop = evs.find((ev) => ev.skb === skb && ev.probe === 'kfree_skb' && ev.drop_reason === 'NO_SOCKET');
  assert.ok(drop, `NO_SOCKET drop of that SYN not seen${dump}`);
  const ts = (ev: TraceEvent): bigint => BigInt(ev.ts_ns);
  assert.ok(ts(ipRcv) <= ts(tcpRcv) && ts(tcpRcv) <= ts(drop), `path out of order: ip_rcv, tcp_v4_rcv, drop${dump}`);
}

function assertOutputDrop(res: GuestResults, dump: string): void {
  const evs = res.runs.main!.result.events;
  const toDrop = evs.filter((ev) => ev.tuple?.proto === 'tcp' && ev.tuple.dport === DROP_PORT && tcpFlags(ev).join(',') === 'SYN');
  const drop = toDrop.find((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP' && ev.netns === res.client.inode);
  assert.ok(drop, `NETFILTER_DROP of the SYN in the client netns not seen${dump}`);
  assert.ok(toDrop.some((ev) => ev.skb === drop.skb && /^(nf_hook_slow|__ip_local_out|ip_local_out)$/.test(ev.probe)), `no function event on the way to the drop${dump}`);
  const xmit = toDrop.filter((ev) => ev.skb === drop.skb && /^(net_dev_queue|net_dev_start_xmit|net_dev_xmit|__dev_queue_xmit|dev_hard_start_xmit)$/.test(ev.probe));
  assert.deepEqual(xmit, [], `the dropped SYN must never reach a transmit probe${dump}`);
}

function assertPing(res: GuestResults, dump: string): void {
  const evs = res.runs.main!.result.events.filter((ev) => ev.tuple?.proto === 'icmp' && ev.skb !== '0x0');
  assert.ok(evs.some((ev) => ev.tuple?.icmp_type === 8 && ev.netns === res.server.inode && ev.probe === 'icmp_rcv'), `echo request not seen at icmp_rcv in the server${dump}`);
  assert.ok(evs.some((ev) => ev.tuple?.icmp_type === 0 && ev.netns === res.client.inode), `echo reply not seen back in the client${dump}`);
  assert.deepEqual(evs.filter((ev) => ev.probe === 'kfree_skb'), [], `ping packets must not be dropped${dump}`);
}

const CASES = [
  { kernel: '6.12', backend: 'fentry', keep: true },
  { kernel: '6.12', backend: 'kprobe.multi', keep: false },
  { kernel: '6.1', backend: 'kprobe', keep: false },
] as const;

for (const c of CASES) {
  test(`guest ${c.kernel}: --backend ${c.backend} traces the closed-port path, the OUTPUT drop and a ping function by function`, { timeout: 25 * 60_000 }, (t) => {
    if (why) return t.skip(why);
    const res = runGuest(c.kernel, c.backend, c.keep ? ['--keep-dnat'] : []);
    const main = res.runs.main;
    assert.ok(main, 'the main run recorded results');
    t.diagnostic(`kernel ${res.kernel}; ready after ${main.readyMs} ms; stop took ${main.result.stopMs} ms; ${main.result.events.length} events; ${main.notes.join('; ')}`);
    assert.ok(res.kernel.startsWith(c.kernel), `guest kernel ${res.kernel}`);
    assert.match(main.result.stderr, new RegExp(`functions via ${c.backend.replace('.', '\\.')}`), 'the chosen backend is the one asked for');
    assert.equal(main.result.code, 0, `trace exit code${main.result.stderr}`);
    const dump = `\nevents:\n${describeEvents(main.result.events, 80)}\nstderr:\n${main.result.stderr.slice(-2000)}`;
    assertClosedPortPath(res, dump);
    assertOutputDrop(res, dump);
    assertPing(res, dump);

    const nomatch = res.runs.nomatch!;
    const ctl = res.control!;
    const ndump = `:\n${describeEvents(nomatch.result.events)}\nstderr:\n${nomatch.result.stderr.slice(-1500)}\nnotes: ${nomatch.notes}`;
    assert.ok(
      nomatch.result.events.some((ev) => ev.probe === 'ip_rcv' && ev.netns === res.server.inode && ev.tuple?.icmp_type === 8 && ev.tuple.daddr === ctl),
      `-H ${ctl}: the control ping should be seen at ip_rcv in the server${ndump}`,
    );
    const other = nomatch.result.events.filter((ev) => ev.tuple?.saddr !== ctl && ev.tuple?.daddr !== ctl);
    assert.deepEqual(other, [], `-H ${ctl} printed events of the traffic it excludes${ndump}`);

    if (c.keep) {
      const keep = res.runs.keep!;
      const kevs = keep.result.events;
      const kdump = `\nevents:\n${describeEvents(kevs, 80)}\nstderr:\n${keep.result.stderr.slice(-1500)}\nnotes: ${keep.notes}`;
      const before = kevs.find((ev) => ev.tuple?.daddr === res.vip && ev.tuple?.dport === DNAT_VIP_PORT && tcpFlags(ev).join(',') === 'SYN');
      assert.ok(before, `the SYN to the virtual address not seen before DNAT${kdump}`);
      const after = kevs.find(
        (ev) => ev.skb === before.skb && ev.kept === true && ev.tuple?.daddr === res.server.v4 && ev.tuple?.dport === DNAT_REAL_PORT,
      );
      assert.ok(after, `--keep did not follow the same skb to its translated destination${kdump}`);
      assert.ok(BigInt(after.ts_ns) >= BigInt(before.ts_ns), 'translated after the original');
    }
  });
}
