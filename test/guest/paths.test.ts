/**
 * Guest-kernel tier of the function backends' path (issue 13): on the closed-port and
 * OUTPUT DROP cases with --iptable, every line is right and the default view is short.
 * One boot per kernel and backend runs test/guest/path-scenarios.ts inside it; the
 * recorded --json events and text lines are asserted on here:
 *
 *   - every function return's namespace and device are its entry's (kept at entry in the
 *     kernel, joined at return), and each return names its value (ret_name) where the type says;
 *   - no line or step names pktpath's own nft table, and no nft_do_chain* function line;
 *   - one line per netfilter verdict: as many DROP steps as NETFILTER_DROP frees, as many
 *     OUTPUT steps for the SYN as times it left the client;
 *   - no trampoline or BPF frame in --callstack stacks;
 *   - the namespace is known on every event with a device, and inside TCP's receive path;
 *   - with fentry, ipt_do_table (module ip_tables, iptables-legacy loaded) is traced;
 *   - the default text view of the closed-port case stays under 25 lines;
 *   - the time from SIGINT to the summary and to the exit is measured and printed.
 *
 *   6.12: fentry, kprobe.multi (returns through kprobe sessions), kprobe
 *   6.1:  kprobe
 *
 * Skipped, with the reason printed, when not root, not built, or when the guest harness
 * cannot run here. Run: node --test dist/test/guest/paths.test.js (about 2-4 min per boot).
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, describeEvents, tcpFlags } from '../helpers/netns.js';
import type { TraceEvent } from '../helpers/netns.js';
import { CLOSED_PORT, DROP_PORT } from './constants.js';
import type { PathResults } from './path-scenarios.js';

const GUEST = join(REPO_ROOT, 'scripts/vm/guest.sh');
const OUT_DIR = join(REPO_ROOT, '.guest-results');
const RUNNER = join(REPO_ROOT, 'dist/test/guest/path-scenarios.js');

function cannotRun(): string | null {
  if (process.geteuid?.() !== 0) return 'needs root (QEMU, namespaces and BPF inside the guest)';
  if (!existsSync(RUNNER)) return 'dist/test/guest/path-scenarios.js not built';
  if (!existsSync(join(REPO_ROOT, 'build/pktpath.bpf.o'))) return 'BPF object not built';
  const check = spawnSync(GUEST, ['--check'], { encoding: 'utf8' });
  if (check.status !== 0) return `guest harness cannot run: ${(check.stdout + check.stderr).trim() || `exit ${check.status}`}`;
  return null;
}
const why = cannotRun();

function runGuest(kernel: string, backend: string): PathResults {
  mkdirSync(OUT_DIR, { recursive: true });
  const out = join(OUT_DIR, `paths-${kernel}-${backend}.json`);
  rmSync(out, { force: true });
  const r = spawnSync(GUEST, ['--kernel', kernel, '--', 'node', RUNNER, backend, out], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 25 * 60_000, maxBuffer: 64 << 20 });
  if (!existsSync(out)) throw new Error(`guest ${kernel} produced no results (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-4000)}`);
  return JSON.parse(readFileSync(out, 'utf8')) as PathResults;
}

interface Nf {
  table: string;
  chain: string;
  verdict: string;
  rule: string | null;
}
const nfOf = (ev: TraceEvent): Nf | null => (ev.nf && typeof ev.nf === 'object' ? (ev.nf as Nf) : null);
const isRet = (ev: TraceEvent): boolean => 'ret' in ev;
const key = (ev: TraceEvent): string => `${ev.skb}|${ev.probe}`;

/** Each return with its entry: per skb and function, entries stacked and returns popped (calls nest). */
function pairReturns(evs: readonly TraceEvent[]): { ret: TraceEvent; entry: TraceEvent | undefined }[] {
  const open = new Map<string, TraceEvent[]>();
  const out: { ret: TraceEvent; entry: TraceEvent | undefined }[] = [];
  for (const ev of evs) {
    if (nfOf(ev) || ev.skb === '0x0') continue;
    const k = key(ev);
    if (!isRet(ev)) open.set(k, [...(open.get(k) ?? []), ev]);
    else out.push({ ret: ev, entry: ev.entry_seen === false ? undefined : open.get(k)?.pop() });
  }
  return out;
}

/** Frames of pktpath's tracing: trampolines, BPF programs, return-probe trampolines, unnamed addresses. */
// a trampoline image is bpf_trampoline_<id>; bpf_trampoline_update and _unlink_prog are the
// kernel's functions, on the stack of a softirq that ran while pktpath detached
const TRACER_FRAME = /^(0x|bpf_trampoline_\d|bpf_prog_|arch_rethook_trampoline|__kretprobe_trampoline)/;

function assertReturns(res: PathResults, evs: readonly TraceEvent[], dump: string, t: TestContext): void {
  const pairs = pairReturns(evs);
  const joined = pairs.filter((p) => p.entry);
  t.diagnostic(`${pairs.length} function returns, ${joined.length} joined to their entry, ${pairs.length - joined.length} whose entry was not seen`);
  if (res.backend !== 'kprobe') assert.ok(joined.length > 0, `${res.backend} reports function returns${dump}`);
  for (const { ret, entry } of joined) {
    const what = `${ret.probe} return (skb ${ret.skb}, ret ${String(ret.ret)})`;
    assert.equal(ret.netns, entry!.netns, `${what}: netns is its entry's${dump}`);
    assert.equal(ret.ifname, entry!.ifname, `${what}: device is its entry's${dump}`);
    assert.deepEqual(ret.tuple, entry!.tuple, `${what}: tuple is its entry's${dump}`);
    assert.ok(BigInt(ret.ts_ns) >= BigInt(entry!.ts_ns), `${what}: after its entry${dump}`);
    assert.ok('ret_name' in ret, `${what}: ret_name present${dump}`);
  }
  for (const { ret } of pairs.filter((p) => !p.entry)) {
    assert.equal(ret.entry_seen, false, `${ret.probe} return without an entry says so${dump}`);
    assert.deepEqual([ret.netns, ret.ifname], [0, ''], `${ret.probe} return without an entry names no place (the skb may have moved on)${dump}`);
  }
  const xmit = joined.find((p) => p.ret.probe === '__dev_queue_xmit');
  if (xmit) assert.match(String(xmit.ret.ret_name), /^NET_XMIT_|^-E/, `__dev_queue_xmit's return is named${dump}`);
  const nfHook = pairs.find((p) => p.ret.probe === 'nf_hook_slow' && p.ret.ret === -1);
  if (nfHook) assert.equal(nfHook.ret.ret_name, '-EPERM', `nf_hook_slow's drop is -EPERM${dump}`);
}

function assertNoSelfNoise(evs: readonly TraceEvent[], text: readonly string[], dump: string): void {
  const own = evs.filter((ev) => /^pktpath_/.test(nfOf(ev)?.table ?? '') || (/^nft_do_chain/.test(ev.probe) && !nfOf(ev)));
  assert.deepEqual(own.map((ev) => `${ev.probe} ${JSON.stringify(ev.nf)}`), [], `pktpath's own table or nft_do_chain* function lines${dump}`);
  assert.deepEqual(text.filter((l) => /pktpath_\d/.test(l)), [], 'no text line names pktpath\'s own table');
  const frames = evs.flatMap((ev) => (Array.isArray(ev.stack) ? (ev.stack as string[]) : []));
  assert.ok(frames.length > 0, `--callstack gives stacks${dump}`);
  assert.deepEqual(frames.filter((f) => TRACER_FRAME.test(f)), [], 'no trampoline, BPF or unnamed frame in the stacks');
  const noNs = evs.filter((ev) => ev.netns === 0 && (ev.ifname !== '' || /^tcp_(v4_do_rcv|rcv_state_process|reset|add_backlog)$/.test(ev.probe)));
  assert.deepEqual(noNs.map((ev) => `${ev.probe}@${ev.ifname}`), [], `events with a device or a socket argument name their namespace${dump}`);
}

function assertOneLinePerVerdict(res: PathResults, evs: readonly TraceEvent[], dump: string): void {
  const cli = (ev: TraceEvent): boolean => ev.netns === res.client.inode;
  const toDrop = (ev: TraceEvent): boolean => ev.tuple?.proto === 'tcp' && ev.tuple.dport === DROP_PORT && cli(ev);
  const frees = evs.filter((ev) => toDrop(ev) && ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP');
  const drops = evs.filter((ev) => toDrop(ev) && nfOf(ev)?.verdict === 'DROP');
  assert.ok(frees.length > 0, `the OUTPUT DROP freed the SYN${dump}`);
  assert.equal(drops.length, frees.length, `one DROP step per NETFILTER_DROP${dump}`);
  assert.ok(drops.every((ev) => nfOf(ev)!.rule), `every DROP step names its rule${dump}`);
  // a verdict fexit saw and its nft trace line are one line: no step without an skb beside one with it
  const id = (ev: TraceEvent): string => { const nf = nfOf(ev)!; return `${ev.netns}|${nf.table}|${nf.chain}|${nf.verdict}|${JSON.stringify(ev.tuple)}`; };
  const steps = evs.filter((ev) => nfOf(ev));
  const withSkb = new Set(steps.filter((ev) => ev.skb !== '0x0').map(id));
  assert.deepEqual(steps.filter((ev) => ev.skb === '0x0' && withSkb.has(id(ev))).map(id), [], `a verdict printed twice (with and without its skb)${dump}`);
  if (!res.legacy) return;
  // the server's iptables-legacy INPUT: one step per SYN that came in
  const synIn = (ev: TraceEvent): boolean => ev.tuple?.dport === CLOSED_PORT && tcpFlags(ev).join(',') === 'SYN' && ev.netns === res.server.inode;
  const arrived = evs.filter((ev) => synIn(ev) && ev.probe === 'netif_receive_skb').length;
  const input = evs.filter((ev) => synIn(ev) && nfOf(ev)?.table === 'filter' && nfOf(ev)?.chain === 'INPUT');
  assert.ok(arrived > 0, `the SYN came into the server${dump}`);
  assert.equal(input.length, arrived, `one legacy filter INPUT step per SYN that came in${dump}`);
}

const CASES = [
  { kernel: '6.12', backend: 'fentry' },
  { kernel: '6.12', backend: 'kprobe.multi' },
  { kernel: '6.12', backend: 'kprobe' },
  { kernel: '6.1', backend: 'kprobe' },
] as const;

for (const c of CASES) {
  test(`guest ${c.kernel} --backend ${c.backend}: every line right, one per verdict, the default view short`, { timeout: 30 * 60_000 }, (t) => {
    if (why) return t.skip(why);
    const res = runGuest(c.kernel, c.backend);
    const json = res.runs.json;
    const text = res.runs.text;
    assert.ok(json && text, `the runs recorded results: ${res.notes.join('; ')}`);
    for (const [name, r] of Object.entries(res.runs)) {
      if (!r) continue;
      t.diagnostic(`${name}: ready after ${r.readyMs} ms; SIGINT to summary ${r.result.summaryMs} ms, to exit ${r.result.stopMs} ms`);
      assert.equal(r.result.code, 0, `${name} run: exit 0${r.result.stderr.slice(-1500)}`);
      assert.match(r.result.stderr, new RegExp(`functions via ${c.backend.replace('.', '\\.')}`), `${name} run: the backend asked for`);
    }
    const evs = json.result.events;
    const dump = `\nevents:\n${describeEvents(evs, 120)}\nstderr:\n${json.result.stderr.slice(-2000)}`;
    const lines = text.result.nonJson.filter((l) => !l.startsWith('time '));
    t.diagnostic(`the default text view of the closed-port case, ${lines.length} lines:\n${lines.join('\n')}`);
    assertReturns(res, evs, dump, t);
    assertNoSelfNoise(evs, text.result.nonJson, dump);
    assertOneLinePerVerdict(res, evs, dump);
    assert.ok(lines.length > 0 && lines.length < 25, `the default view of the closed-port case: ${lines.length} lines\n${lines.join('\n')}`);
    assert.ok(lines.some((l) => /kfree_skb .*reason=NO_SOCKET/.test(l)), 'the default view names the drop');
    assert.ok(lines.some((l) => /tcp_(v4_)?send_reset/.test(l)), 'the default view shows the reset being sent');
    if (c.backend === 'fentry' && res.legacy) {
      const mod = res.runs.module!.result.events;
      assert.ok(
        mod.some((ev) => ev.probe === 'ipt_do_table' && ev.netns === res.server.inode),
        `ipt_do_table (module ip_tables) traced with fentry in the server:\n${describeEvents(mod, 40)}\n${res.runs.module!.result.stderr.slice(-1500)}`,
      );
    }
  });
}
