/**
 * Integration tests of `pktpath trace --json` against real traffic between two network
 * namespaces (test/helpers/netns.ts). They reproduce the original tool's investigations:
 * a reset from a closed port, a SYN dropped by netfilter, a ping that must go through
 * cleanly, and filters that must match nothing of the traffic they exclude.
 *
 * Needs root, a kernel with BTF, and a built CLI (bin/pktpath, build/pktpath.bpf.o);
 * otherwise every test is skipped with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  RECEIVE_PROBES,
  TRANSMIT_PROBES,
  describeEvents,
  ping,
  requireRoot,
  runCli,
  spawnTrace,
  tcpFlags,
  whileTracing,
  withTopology,
} from '../helpers/netns.js';
import type { Endpoint, TraceEvent, TraceResult, TraceRun } from '../helpers/netns.js';
import { assertCleanRun, isInt } from '../helpers/events.js';
import { netfilterLinks } from '../helpers/bpf.js';


/** How long to let late events arrive before stopping a trace for a negative check. */
const SETTLE_MS = 400;
/** How long to wait for an expected event. */
const EXPECT_MS = 5000;
const TEST_TIMEOUT = 90_000;

/** A port in 20000..39999, different on every call in this process. */
const usedPorts = new Set<number>();
function freshPort(): number {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 20000);
    if (!usedPorts.has(p)) {
      usedPorts.add(p);
      return p;
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Run `body` with a trace attached; always stop the trace. */
async function traced(args: string[], body: (trace: TraceRun) => Promise<void>): Promise<TraceResult> {
  return whileTracing(await spawnTrace(args), body);
}

/** A route lookup (fib_table_lookup) describes a flow before its source is chosen: 0.0.0.0:0 is allowed there. */
const isRouteLookup = (ev: TraceEvent): boolean => ev.probe === 'fib_table_lookup';
const unspecified = (addr: string): boolean => addr === '0.0.0.0' || addr === '::';

const matchesFlow = (ev: TraceEvent, a: string, b: string, port: number): boolean =>
  !!ev.tuple &&
  ((ev.tuple.saddr === a && ev.tuple.daddr === b && ev.tuple.dport === port) ||
    (ev.tuple.saddr === b && ev.tuple.daddr === a && ev.tuple.sport === port) ||
    (isRouteLookup(ev) && unspecified(ev.tuple.saddr) && ev.tuple.daddr === b && ev.tuple.dport === port));

const isSynTo = (ev: TraceEvent, from: string, to: string, port: number): boolean =>
  ev.tuple?.proto === 'tcp' && ev.tuple.saddr === from && ev.tuple.daddr === to && ev.tuple.dport === port &&
  tcpFlags(ev).join(',') === 'SYN';

// ------------------------------------------------------------------ (a), (e)

/**
 * Connect to a port nobody listens on. The server's stack must show the SYN arriving,
 * dropped for NO_SOCKET, and a reset going back.
 */
async function closedPortCase(t: import('node:test').TestContext, family: 4 | 6): Promise<void> {
  if (!requireRoot(t)) return;
  await withTopology(
    async (topo) => {
      const pick = (e: Endpoint): string => (family === 4 ? e.v4 : e.v6);
      const server = pick(topo.server);
      const client = pick(topo.client);
      if (!server) return void t.skip('IPv6 is disabled on this machine');
      const port = freshPort();

      const res = await traced(['-H', server, '-P', String(port), '--proto', 'tcp'], async (trace) => {
        const conn = await topo.connect(topo.client, server, port, 2000);
        assert.equal(conn.outcome, 'refused', `connect to a closed port should be refused (${conn.outcome} ${conn.detail})`);
        await trace.waitFor((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NO_SOCKET', EXPECT_MS);
        await trace.waitFor((ev) => tcpFlags(ev).includes('RST') || ev.probe === 'tcp_send_reset', EXPECT_MS);
        await sleep(SETTLE_MS);
      });
      assertCleanRun(res);
      const evs = res.events;
      const dump = `\nevents:\n${describeEvents(evs)}\nstderr:\n${res.stderr}`;

      for (const ev of evs) {
        assert.ok(ev.tuple?.proto === 'tcp' && matchesFlow(ev, client, server, port), `event outside the filter -H ${server} -P ${port} --proto tcp: ${JSON.stringify(ev)}`);
      }

      // 1. The SYN entering the server's stack, in the server's namespace, on its veth.
      const synRx = evs.filter((ev) => ev.probe === 'netif_receive_skb' && ev.netns === topo.server.inode && isSynTo(ev, client, server, port));
      assert.ok(synRx.length > 0, `no netif_receive_skb of the SYN in the server netns (${topo.server.inode})${dump}`);
      assert.ok(synRx.some((ev) => ev.ifname === topo.server.ifname), `the received SYN should be on ${topo.server.ifname}${dump}`);

      // 2. That SYN dropped for NO_SOCKET in the server's namespace.
      const drops = evs.filter((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NO_SOCKET');
      assert.ok(drops.length > 0, `no kfree_skb with drop_reason NO_SOCKET${dump}`);
      const drop = drops.find((ev) => ev.netns === topo.server.inode && isSynTo(ev, client, server, port));
      assert.ok(drop, `the NO_SOCKET drop should be the SYN, in the server netns${dump}`);
      assert.ok(synRx.some((ev) => ev.skb === drop.skb), `the dropped skb ${drop.skb} should be the one received${dump}`);
      assert.ok(typeof drop.location === 'string' && drop.location.length > 0, `a drop should carry its location: ${JSON.stringify(drop)}`);

      // 3. The reset leaving the server (or the tcp_send_reset for the triggering SYN).
      const rst = evs.find(
        (ev) =>
          ev.netns === topo.server.inode &&
          ((TRANSMIT_PROBES.has(ev.probe) && tcpFlags(ev).includes('RST') && ev.tuple?.saddr === server && ev.tuple.sport === port && ev.tuple.daddr === client) ||
            (ev.probe === 'tcp_send_reset' && !!ev.tuple && matchesFlow(ev, client, server, port))),
      );
      assert.ok(rst, `no RST leaving the server (transmit probe with RST from ${server}:${port}, or tcp_send_reset)${dump}`);

      // Nothing else was dropped: the client took the reset.
      const otherDrops = evs.filter((ev) => ev.probe === 'kfree_skb' && ev.drop_reason !== 'NO_SOCKET');
      assert.deepEqual(otherDrops, [], `unexpected drops${dump}`);
    },
    { tag: `closed${family}` },
  );
}

describe('pktpath trace (integration)', () => {
  test('(a) closed TCP port: SYN received, dropped NO_SOCKET, RST sent', { timeout: TEST_TIMEOUT }, (t) => closedPortCase(t, 4));

  // ---------------------------------------------------------------- (b)
  test('(b) netfilter DROP in OUTPUT: NETFILTER_DROP in the client netns, SYN never transmitted', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!requireRoot(t, { commands: ['iptables'] })) return;
    await withTopology(
      async (topo) => {
        const server = topo.server.v4;
        const port = freshPort();
        const rule = ['OUTPUT', '-d', server, '-p', 'tcp', '--dport', String(port), '-j', 'DROP'];
        await topo.exec(topo.client, ['iptables', '-I', ...rule]);
        try {
          const res = await traced(['-H', server, '-P', String(port), '--proto', 'tcp'], async (trace) => {
            const conn = await topo.connect(topo.client, server, port, 1500);
            assert.equal(conn.outcome, 'timeout', `a connect through a DROP rule should time out (${conn.outcome} ${conn.detail})`);
            await trace.waitFor((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP', EXPECT_MS);
            await sleep(SETTLE_MS);
          });
          assertCleanRun(res);
          const evs = res.events;
          const dump = `\nevents:\n${describeEvents(evs)}\nstderr:\n${res.stderr}`;

          const drops = evs.filter(
            (ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP' && ev.netns === topo.client.inode && isSynTo(ev, topo.client.v4, server, port),
          );
          assert.ok(drops.length > 0, `no kfree_skb NETFILTER_DROP of the SYN in the client netns (${topo.client.inode})${dump}`);
          assert.ok(drops.every((ev) => typeof ev.location === 'string' && ev.location.length > 0), `drops should carry a location${dump}`);

          const dropped = new Set(drops.map((ev) => ev.skb));
          const sent = evs.filter(
            (ev) => TRANSMIT_PROBES.has(ev.probe) && (dropped.has(ev.skb) || (ev.tuple?.dport === port && ev.tuple.daddr === server)),
          );
          assert.deepEqual(sent, [], `a SYN dropped in OUTPUT must never reach a device${dump}`);
          const atServer = evs.filter((ev) => ev.netns === topo.server.inode);
          assert.deepEqual(atServer, [], `nothing should reach the server netns${dump}`);
        } finally {
          await topo.exec(topo.client, ['iptables', '-D', ...rule], { allowFail: true });
        }
      },
      { tag: 'nfdrop' },
    );
  });

  // ---------------------------------------------------------------- (c)
  test('(c) ping between namespaces: echo request and reply, with icmp_id, no drops', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!requireRoot(t)) return;
    await withTopology(
      async (topo) => {
        const server = topo.server.v4;
        const client = topo.client.v4;
        let ids: number[] = [];
        const res = await traced(['--proto', 'icmp', '-H', server], async (trace) => {
          const p = await topo.ping(topo.client, server, { count: 2, intervalS: 0.2, waitS: 1 });
          assert.equal(p.received, 2, `ping should get 2 replies (${p.tool}): ${p.stdout} ${p.stderr}`);
          ids = p.ids;
          await trace.waitFor((ev) => ev.tuple?.icmp_type === 0, EXPECT_MS);
          await sleep(SETTLE_MS);
        });
        assertCleanRun(res);
        const evs = res.events;
        const dump = `\nevents:\n${describeEvents(evs)}\nstderr:\n${res.stderr}`;

        for (const ev of evs) {
          assert.ok(ev.tuple?.proto === 'icmp' && (ev.tuple.saddr === server || ev.tuple.daddr === server), `event outside --proto icmp -H ${server}: ${JSON.stringify(ev)}`);
        }
        // packets only: route lookups describe flows and carry no echo id
        const packets = evs.filter((ev) => !isRouteLookup(ev));
        const requests = packets.filter((ev) => ev.tuple?.icmp_type === 8 && ev.tuple.saddr === client && ev.tuple.daddr === server);
        const replies = packets.filter((ev) => ev.tuple?.icmp_type === 0 && ev.tuple.saddr === server && ev.tuple.daddr === client);
        assert.ok(requests.length > 0, `no echo request (icmp_type 8) seen${dump}`);
        assert.ok(replies.length > 0, `no echo reply (icmp_type 0) seen${dump}`);
        assert.ok(requests.some((ev) => ev.netns === topo.server.inode && RECEIVE_PROBES.has(ev.probe)), `echo request not seen arriving in the server netns${dump}`);
        assert.ok(replies.some((ev) => ev.netns === topo.client.inode && RECEIVE_PROBES.has(ev.probe)), `echo reply not seen arriving in the client netns${dump}`);
        for (const ev of [...requests, ...replies]) {
          assert.ok(isInt(ev.tuple?.icmp_id), `icmp_id should be set: ${JSON.stringify(ev)}`);
          assert.equal(ev.tuple?.icmp_code, 0, `echo code should be 0: ${JSON.stringify(ev)}`);
        }
        const reqIds = new Set(requests.map((ev) => ev.tuple?.icmp_id));
        for (const ev of replies) assert.ok(reqIds.has(ev.tuple?.icmp_id), `reply id ${ev.tuple?.icmp_id} matches no request${dump}`);
        if (ids.length) for (const id of reqIds) assert.ok(ids.includes(id as number), `icmp_id ${id} is not the id ping used (${ids.join(',')})`);

        const dropped = evs.filter((ev) => ev.probe === 'kfree_skb');
        assert.deepEqual(dropped, [], `a successful ping must not show drops${dump}`);

        // SIGINT: exit within about a second, with a summary after the ready line.
        assert.ok(res.stopMs < 2500, `pktpath took ${res.stopMs} ms to exit after SIGINT`);
        const afterReady = res.stderr.split('\n').filter(Boolean).findIndex((l) => /\bready\b/i.test(l));
        assert.ok(res.stderr.split('\n').filter(Boolean).length > afterReady + 1, `no summary on stderr after SIGINT:\n${res.stderr}`);
      },
      { tag: 'ping' },
    );
  });

  // ---------------------------------------------------------------- (d)
  /*
   * Each filter runs over traffic it excludes and over one control flow it matches, in the
   * same trace: the control proves the probes were attached and running, so "nothing of the
   * excluded traffic" cannot come from a trace that saw nothing at all.
   */
  test('(d) filters print nothing of the traffic they exclude, and do show a matching control flow', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!requireRoot(t)) return;
    await withTopology(
      async (topo) => {
        const server = topo.server.v4;
        const excluded = async (): Promise<void> => {
          const p = await topo.ping(topo.client, server, { count: 2, intervalS: 0.2, waitS: 1 });
          assert.equal(p.received, 2, `ping should work: ${p.stdout} ${p.stderr}`);
          await topo.ping(topo.server, topo.client.v4, { count: 1, waitS: 1 });
          await topo.connect(topo.client, server, freshPort(), 1000);
        };
        const involves = (ev: TraceEvent, addr: string, port?: number): boolean =>
          !!ev.tuple && (ev.tuple.saddr === addr || ev.tuple.daddr === addr) && (port === undefined || ev.tuple.sport === port || ev.tuple.dport === port);

        // -H: the control is a second address of the server's, in this topology's subnet
        const ctlAddr = server.replace(/\.\d+$/, '.3');
        await topo.exec(topo.server, ['ip', 'addr', 'add', `${ctlAddr}/24`, 'dev', topo.server.ifname]);
        const byAddr = await traced(['-H', ctlAddr], async (trace) => {
          await excluded();
          const p = await ping(topo.client.ns, ctlAddr, { count: 1, waitS: 1 });
          assert.equal(p.received, 1, `control ping to ${ctlAddr}: ${p.stdout} ${p.stderr}`);
          await trace.waitFor((ev) => ev.tuple?.icmp_type === 0 && ev.tuple.saddr === ctlAddr, EXPECT_MS);
          await sleep(SETTLE_MS);
        });
        assertCleanRun(byAddr);
        const addrDump = `:\n${describeEvents(byAddr.events)}\nstderr:\n${byAddr.stderr}`;
        assert.ok(
          byAddr.events.some((ev) => ev.netns === topo.server.inode && RECEIVE_PROBES.has(ev.probe) && ev.tuple?.icmp_type === 8 && ev.tuple.daddr === ctlAddr),
          `-H ${ctlAddr}: the control ping should arrive in the server netns${addrDump}`,
        );
        assert.deepEqual(byAddr.events.filter((ev) => !involves(ev, ctlAddr)), [], `-H ${ctlAddr} should match nothing of the other traffic${addrDump}`);

        // -P: the control is a connection to one more closed port
        const ctlPort = freshPort();
        const byPort = await traced(['-H', server, '-P', String(ctlPort), '--proto', 'tcp'], async (trace) => {
          await excluded();
          const c = await topo.connect(topo.client, server, ctlPort, 2000);
          assert.equal(c.outcome, 'refused', `control connect to the closed port ${ctlPort}: ${c.outcome} ${c.detail}`);
          await trace.waitFor((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NO_SOCKET', EXPECT_MS);
          await sleep(SETTLE_MS);
        });
        assertCleanRun(byPort);
        const portDump = `:\n${describeEvents(byPort.events)}\nstderr:\n${byPort.stderr}`;
        assert.ok(
          byPort.events.some((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NO_SOCKET' && isSynTo(ev, topo.client.v4, server, ctlPort)),
          `-P ${ctlPort}: the control SYN should be seen dropped NO_SOCKET${portDump}`,
        );
        assert.deepEqual(byPort.events.filter((ev) => !involves(ev, server, ctlPort)), [], `-P ${ctlPort} should match nothing of the other traffic${portDump}`);
      },
      { tag: 'nomatch' },
    );
  });

  // ---------------------------------------------------------------- (e)
  test('(e) closed TCP port over IPv6: NO_SOCKET and RST', { timeout: TEST_TIMEOUT }, (t) => closedPortCase(t, 6));

  // ---------------------------------------------------------------- extra filters
  test('(g) --netns, --ifname and --catch-count', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!requireRoot(t)) return;
    await withTopology(
      async (topo) => {
        const server = topo.server.v4;
        const pingOnce = async (): Promise<void> => {
          const p = await topo.ping(topo.client, server, { count: 2, intervalS: 0.2, waitS: 1 });
          assert.equal(p.received, 2, `ping should work: ${p.stdout} ${p.stderr}`);
        };

        const byNs = await traced(['-N', topo.server.ns, '--proto', 'icmp', '-H', server], async (trace) => {
          await pingOnce();
          await trace.waitFor((ev) => ev.tuple?.icmp_type === 0, EXPECT_MS);
          await sleep(SETTLE_MS);
        });
        assertCleanRun(byNs);
        assert.ok(byNs.events.length > 0, `-N ${topo.server.ns} should see the ping\nstderr:\n${byNs.stderr}`);
        assert.deepEqual(byNs.events.filter((ev) => ev.netns !== topo.server.inode), [], `-N ${topo.server.ns}: events from other namespaces:\n${describeEvents(byNs.events)}`);

        const byIf = await traced(['-i', topo.server.ifname, '--proto', 'icmp', '-H', server], async (trace) => {
          await pingOnce();
          await trace.waitFor((ev) => ev.tuple?.icmp_type === 0, EXPECT_MS);
          await sleep(SETTLE_MS);
        });
        assertCleanRun(byIf);
        assert.ok(byIf.events.length > 0, `-i ${topo.server.ifname} should see the ping\nstderr:\n${byIf.stderr}`);
        assert.deepEqual(byIf.events.filter((ev) => ev.ifname !== topo.server.ifname), [], `-i ${topo.server.ifname}: events on other devices:\n${describeEvents(byIf.events)}`);

        const counted = await spawnTrace(['-c', '3', '--proto', 'icmp', '-H', server]);
        let res: TraceResult;
        try {
          await pingOnce();
          res = await counted.waitForExit(EXPECT_MS);
        } finally {
          await counted.stop().catch(() => undefined);
        }
        assert.equal(res.code, 0, `-c 3 should exit 0 by itself; stderr:\n${res.stderr}`);
        assert.equal(res.events.length, 3, `-c 3 should print exactly 3 events:\n${describeEvents(res.events)}`);
      },
      { tag: 'filters' },
    );
  });
});

// ---------------------------------------------------------------- (f)
describe('pktpath trace: bad input', () => {
  const cases: [string, string[]][] = [
    ['port out of range', ['--port', '70000']],
    ['truncated IPv4 address', ['--ipaddr', '1.2.3']],
    ['unknown protocol', ['--proto', 'sctpx']],
    ['netns that does not exist', ['--netns', 'doesnotexist']],
    ['pid 0', ['--pid', '0']],
    ['negative pid', ['--pid', '-5']],
    ['interface name longer than 15', ['--ifname', 'abcdefghijklmnopqrst']],
  ];
  for (const [what, args] of cases) {
    test(`${what}: ${args.join(' ')}`, { timeout: 30_000 }, async (t) => {
      if (!requireRoot(t, { root: false, btf: false, netns: false, bpfObject: false })) return;
      const r = await runCli(['trace', '--json', ...args]);
      assert.equal(r.timedOut, false, `pktpath trace ${args.join(' ')} should fail fast, not run`);
      assert.ok(r.code !== null && r.code !== 0, `should exit non-zero (code ${r.code}, signal ${r.signal}); stderr:\n${r.stderr}`);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      assert.equal(lines.length, 1, `exactly one stderr line expected, got ${lines.length}:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /^\s*at\s/m, `no stack trace expected:\n${r.stderr}`);
      assert.equal(r.stdout.trim(), '', `nothing on stdout expected:\n${r.stdout}`);
    });
  }
});

describe('pktpath doctor', () => {
  test('judges each engine by a real load and attach, and leaves nothing attached', { timeout: 60_000 }, async (t) => {
    if (!requireRoot(t, { netns: false })) return;
    const before = netfilterLinks();
    assert.ok(before, 'bpftool lists BPF links');
    const r = await runCli(['doctor'], 45_000);
    assert.equal(r.timedOut, false, 'doctor should finish');
    assert.equal(r.code, 0, `doctor exits 0 where tracing works; stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    const rows = new Map(
      r.stdout
        .split('\n')
        .map((l) => /^(\S.*?)\s{2,}(ok|no|warn|info)\s+(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, { verdict: m[2]!, detail: m[3]! }]),
    );
    assert.equal(rows.get('tracepoints via tp_btf')?.verdict, 'ok', r.stdout);
    assert.equal(rows.get('summary')?.verdict, 'ok', r.stdout);
    for (const b of ['fentry', 'kprobe.multi', 'kprobe']) assert.ok(rows.has(`backend ${b}`), `a row per function backend (${b}):\n${r.stdout}`);
    // the netfilter observers row follows the kernel: ok exactly when its BTF has BPF netfilter programs
    const hasNf = readFileSync('/sys/kernel/btf/vmlinux').includes('bpf_nf_ctx');
    assert.equal(rows.get('netfilter observers')?.verdict, hasNf ? 'ok' : 'no', r.stdout);
    assert.match(rows.get('--iptable method')?.detail ?? '', hasNf ? /BPF netfilter observers/ : /drops only/, r.stdout);
    assert.deepEqual(netfilterLinks(), before, 'doctor must not leave a netfilter link behind');
  });
});
