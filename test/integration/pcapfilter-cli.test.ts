/**
 * `pktpath trace [flags] EXPRESSION` from the command line: libpcap's message and exit 2
 * for what libpcap rejects, one line and exit 2 for what a probe cannot run, and a real
 * trace between two namespaces where the expression and the flags are ANDed. The
 * corpus-wide differential test is test/integration/pcapfilter.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEvents, requireRoot, runCli, spawnTrace, whileTracing, withTopology } from '../helpers/netns.js';
import type { TraceEvent } from '../helpers/netns.js';
import { assertCleanRun } from '../helpers/events.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('what libpcap or a probe refuses: one line on stderr, exit 2, nothing traced', async (t) => {
  if (!requireRoot(t, { root: false, btf: false, netns: false })) return;
  const table: [string[], RegExp][] = [
    [['tcp port'], /^pktpath: can't parse filter expression: syntax error\n$/],
    [['tcp', 'port', '99999'], /^pktpath: illegal port number 99999 > 65535\n$/],
    [['ip broadcast'], /^pktpath: netmask not known, so 'ip broadcast' not supported\n$/],
    [['inbound'], /^pktpath: cannot run "inbound" at a probe: `inbound` and `outbound` need the capture direction[^\n]*\n$/],
    [['ip6 protochain 6'], /^pktpath: cannot run "ip6 protochain 6" at a probe: the compiled expression loops[^\n]*\n$/],
    [['ip[600] = 1'], /^pktpath: cannot run "ip\[600\] = 1" at a probe: the expression reads packet byte 615; a probe copies the first 512 bytes\n$/],
    [['--route', 'tcp'], /^pktpath: --route with an expression: route lookups carry no packet[^\n]*\n$/],
    [['--iptable', 'tcp'], /^pktpath: --iptable with an expression: the netfilter path comes from nft trace[^\n]*\n$/],
  ];
  for (const [args, want] of table) {
    const r = await runCli(['trace', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('the expression runs at the probes, ANDed with the flags', { timeout: 90_000 }, async (t) => {
  if (!requireRoot(t)) return;
  await withTopology(
    async (topo) => {
      const server = topo.server.v4;
      // echo requests to the server, only where the server's veth has them: not the replies, not the client side
      const res = await whileTracing(await spawnTrace(['-i', topo.server.ifname, `icmp[icmptype] == icmp-echo and dst host ${server}`]), async (trace) => {
        const ping = await topo.ping(topo.client, server, { count: 3, intervalS: 0.2 });
        assert.equal(ping.received, 3, 'the ping gets through');
        await trace.waitFor((ev) => ev.probe === 'netif_receive_skb', 5000);
        await sleep(400);
      });
      assertCleanRun(res);
      const bad = res.events.filter((ev: TraceEvent) => ev.ifname !== topo.server.ifname || ev.tuple?.icmp_type !== 8 || ev.tuple.daddr !== server);
      assert.deepEqual(bad, [], describeEvents(bad));
      // skb addresses are reused: count the requests where they enter the server's stack
      const arrivals = res.events.filter((ev) => ev.probe === 'netif_receive_skb').length;
      assert.equal(arrivals, 3, `the three requests were traced:\n${describeEvents(res.events)}`);
    },
    { tag: 'pcapcli' },
  );
});

test('an expression and a flag that contradict each other show nothing', { timeout: 90_000 }, async (t) => {
  if (!requireRoot(t)) return;
  await withTopology(
    async (topo) => {
      const res = await whileTracing(await spawnTrace(['--proto', 'udp', `icmp and host ${topo.server.v4}`]), async () => {
        await topo.ping(topo.client, topo.server.v4, { count: 2, intervalS: 0.2 });
        await sleep(400);
      });
      assertCleanRun(res);
      assert.deepEqual(res.events, []);
    },
    { tag: 'pcapcli' },
  );
});

test('payload in page fragments: not shown, and counted at the end', { timeout: 90_000 }, async (t) => {
  if (!requireRoot(t, { commands: ['iperf3'] })) return;
  await withTopology(
    async (topo) => {
      const server = topo.server.v4;
      // TCP's payload sits in page fragments, behind the linear headers: the expression cannot see it
      const res = await whileTracing(await spawnTrace([`tcp port 5201 and host ${server} and tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x01020304`]), async () => {
        await topo.exec(topo.server, ['iperf3', '-s', '-1', '-D', '-B', server]);
        await sleep(300);
        await topo.exec(topo.client, ['iperf3', '-c', server, '-n', '4M'], { timeoutMs: 30_000 });
        await sleep(300);
      });
      assertCleanRun(res);
      assert.deepEqual(res.events, [], describeEvents(res.events));
      assert.match(res.stderr, /^pktpath: \d+ packets not shown: the expression reads bytes that lie outside the skb's linear data there$/m);
    },
    { tag: 'pcapcli' },
  );
});
