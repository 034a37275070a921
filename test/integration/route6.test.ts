/**
 * Integration tests of `pktpath trace --route` for IPv6 (fib6:fib6_table_lookup), between
 * two namespaces joined by a veth pair with fd00:199:X::1/64 and ::2/64 (no DAD;
 * test/helpers/netns.ts), asserted on --json and on text:
 *
 *   (1) a TCP connect to the peer: the client's lookup finds a unicast route out of its
 *       veth in table 254 after no match in the local table 255; the server's input
 *       lookup of its own address finds a local route; each in its own namespace
 *   (2) a connect to an address with no route: no match in table 255, then none in
 *       table 254 (the kernel's null entry), with the client's namespace (not 0) even
 *       though no device was found, so -N NAME keeps it
 *   (3) a reject route (`ip -6 route add unreachable ...`): type unreachable, err -113
 *   (4) the text form, and no fib6_table_lookup without --route
 *
 * Traffic goes only to the namespaces' own addresses, and toward fd00:199:250::250
 * (UNUSED_V6, which nobody has), which never leaves the client namespace: it has no
 * route there, or a reject route made by the test.
 *
 * Needs root, a kernel with BTF and IPv6, and a built CLI; otherwise skipped with the
 * reason. On a kernel without the fib6_table_lookup tracepoint the tests skip too, with
 * pktpath's own reason.
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { UNUSED_V6, requireRoot, skipUnlessMet, spawnTrace, tcpConnect, whileTracing, withTopology } from '../helpers/netns.js';
import type { Endpoint, TraceEvent, TraceResult, TraceRun } from '../helpers/netns.js';
import { assertCleanRun, isInt } from '../helpers/events.js';

const EXPECT_MS = 5000;
/** How long to let late events arrive before stopping a trace for a negative check. */
const SETTLE_MS = 400;
const TEST_TIMEOUT = 90_000;
const PROBE = 'fib6_table_lookup';

interface RouteInfo {
  table: number;
  type: string;
  oif: string;
  gw: string;
  err: number;
}

const routeOf = (ev: TraceEvent): RouteInfo | null => (ev.probe === PROBE && ev.route && typeof ev.route === 'object' ? (ev.route as RouteInfo) : null);

/** One line per event, for assertion messages. */
function dumpOf(res: TraceResult, max = 60): string {
  const lines = res.events.slice(0, max).map((e) => {
    const t = e.tuple;
    const tuple = t ? `${t.proto} ${t.saddr}:${t.sport}->${t.daddr}:${t.dport}${t.icmp_type !== undefined ? ` icmp ${t.icmp_type}/${t.icmp_code}` : ''}` : '-';
    return `  ${e.probe} ns=${e.netns} if=${e.ifname} ${tuple}${e.route ? ` route=${JSON.stringify(e.route)}` : ''}${e.drop_reason ? ` drop=${e.drop_reason}` : ''}`;
  });
  if (res.events.length > max) lines.push(`  ... ${res.events.length - max} more`);
  return `\nevents:\n${lines.join('\n') || '  (none)'}\nstderr:\n${res.stderr}`;
}

/** Every fib6 route object has the promised shape (what test/helpers/events.ts checks for IPv4). */
function assertRouteShapes(res: TraceResult): void {
  for (const ev of res.events.filter((e) => e.probe === PROBE)) {
    const r = ev.route as Record<string, unknown> | undefined;
    assert.ok(
      r && isInt(r.table) && typeof r.type === 'string' && typeof r.oif === 'string' && typeof r.gw === 'string' && isInt(r.err),
      `bad route in ${JSON.stringify(ev)}`,
    );
    assert.deepEqual(Object.keys(ev.info as object).sort(), ['err', 'table'].concat(r.gw ? ['gw'] : []).sort(), `info of ${JSON.stringify(ev)}`);
  }
}

/** Gate: root, IPv6 in this kernel. */
function ready(t: TestContext): boolean {
  if (!requireRoot(t)) return false;
  return skipUnlessMet(t, existsSync('/proc/sys/net/ipv6') ? null : 'needs a kernel with IPv6 (/proc/sys/net/ipv6 is missing)');
}

/** pktpath's own reason when it did not attach fib6_table_lookup (--verbose), else null. */
function notAttached(run: TraceRun): string | null {
  const m = /probe fib6_table_lookup: skipped: ([^\n]*)/.exec(run.stderr());
  if (m) return `pktpath skipped fib6_table_lookup here: ${m[1]}`;
  return /probe fib6_table_lookup: attached/.test(run.stderr()) ? null : `pktpath did not say it attached fib6_table_lookup:\n${run.stderr()}`;
}

/**
 * Run `body` under `pktpath trace --verbose ...args`; always stop the trace. Resolves to
 * null (the test is skipped) when the kernel has no fib6_table_lookup.
 */
async function traced(t: TestContext, args: string[], body: (trace: TraceRun) => Promise<void>, json = true): Promise<TraceResult | null> {
  const trace = await spawnTrace(['--verbose', ...args], { json });
  const why = args.includes('--route') ? notAttached(trace) : null;
  if (why !== null) {
    await trace.stop();
    skipUnlessMet(t, why);
    return null;
  }
  return whileTracing(trace, body);
}

const lookupsIn = (res: TraceResult, ep: Endpoint, daddr: string): TraceEvent[] =>
  res.events.filter((ev) => routeOf(ev) && ev.netns === ep.inode && ev.tuple?.daddr === daddr);

/** The fields asserted on, for exact comparison. */
const brief = (ev: TraceEvent): object => ({ ifname: ev.ifname, proto: ev.tuple?.proto, route: ev.route });

// ------------------------------------------------------------------ (1)

async function connectToPeer(t: TestContext): Promise<void> {
  if (!ready(t)) return;
  await withTopology(
    async (topo) => {
      const { client: cli, server: srv } = topo;
      if (!skipUnlessMet(t, cli.v6 ? null : 'the topology has no IPv6 addresses')) return;
      const l = await topo.listen(srv, srv.v6);
      const res = await traced(t, ['--route', '-H', srv.v6, '-P', String(l.port)], async (trace) => {
        const c = await topo.connect(cli, srv.v6, l.port);
        assert.equal(c.outcome, 'connected', `connect [${srv.v6}]:${l.port}: ${c.detail}`);
        await trace.waitFor((ev) => routeOf(ev) !== null && ev.netns === cli.inode && routeOf(ev)?.type === 'unicast', EXPECT_MS);
        await trace.waitFor((ev) => routeOf(ev) !== null && ev.netns === srv.inode && routeOf(ev)?.type === 'local', EXPECT_MS);
      });
      if (!res) return;
      assertCleanRun(res);
      assertRouteShapes(res);
      const dump = dumpOf(res);

      // the client: a TCP flow to the listener, no match in local, a unicast route out of its veth in main
      const out = lookupsIn(res, cli, srv.v6).filter((ev) => ev.tuple?.proto === 'tcp' && ev.tuple.dport === l.port);
      const uni = out.find((ev) => routeOf(ev)?.type === 'unicast');
      assert.ok(uni, `no unicast lookup of [${srv.v6}]:${l.port} in the client netns${dump}`);
      assert.deepEqual(brief(uni), { ifname: cli.ifname, proto: 'tcp', route: { table: 254, type: 'unicast', oif: cli.ifname, gw: '', err: 0 } }, `the client's lookup${dump}`);
      assert.equal(uni.ifindex, cli.ifindex, `ifindex of the client's lookup${dump}`);
      assert.ok(uni.tuple?.saddr === '::' || uni.tuple?.saddr === cli.v6, `the flow's source is unspecified or the client's: ${uni.tuple?.saddr}${dump}`);
      const miss = out.find((ev) => routeOf(ev)?.table === 255);
      assert.ok(miss, `no lookup in the local table (255) before the main one${dump}`);
      assert.deepEqual(brief(miss), { ifname: '', proto: 'tcp', route: { table: 255, type: 'no-match', oif: '', gw: '', err: -11 } }, `the client's local-table lookup${dump}`);
      assert.ok(Number(miss.ts_ns) <= Number(uni.ts_ns), `local (255) is looked in before main (254)${dump}`);

      // the server: its input lookup of its own address finds the local route (no ports in an input flow)
      const local = lookupsIn(res, srv, srv.v6).find((ev) => routeOf(ev)?.type === 'local');
      assert.ok(local, `no local lookup of ${srv.v6} in the server netns${dump}`);
      assert.deepEqual(brief(local), { ifname: srv.ifname, proto: '0', route: { table: 255, type: 'local', oif: srv.ifname, gw: '', err: 0 } }, `the server's input lookup${dump}`);
      assert.equal(local.tuple?.saddr, cli.v6, `the input lookup's source is the client${dump}`);

      // nothing claims another namespace or a netns of 0
      assert.deepEqual(res.events.filter((ev) => ev.probe === PROBE && ev.netns !== cli.inode && ev.netns !== srv.inode).map(brief), [], `lookups outside the two namespaces${dump}`);
    },
    { tag: 'rt6' },
  );
}

// ------------------------------------------------------------------ (2), (3)

async function noRoute(t: TestContext): Promise<void> {
  if (!ready(t)) return;
  await withTopology(
    async (topo) => {
      const { client: cli } = topo;
      if (!skipUnlessMet(t, cli.v6 ? null : 'the topology has no IPv6 addresses')) return;
      // -N: a failed IPv6 lookup has no device, but its namespace is known
      const res = await traced(t, ['--route', '-N', cli.ns, '-H', UNUSED_V6], async (trace) => {
        const c = await tcpConnect(cli.ns, UNUSED_V6, 9);
        assert.equal(c.outcome, 'error', `connect to ${UNUSED_V6} with no route`);
        assert.match(c.detail, /ENETUNREACH/, `connect to ${UNUSED_V6} with no route`);
        await trace.waitFor((ev) => routeOf(ev)?.table === 254, EXPECT_MS);
      });
      if (!res) return;
      assertCleanRun(res);
      assertRouteShapes(res);
      const dump = dumpOf(res);
      const evs = lookupsIn(res, cli, UNUSED_V6);
      assert.ok(evs.length >= 2, `no lookups of ${UNUSED_V6} in the client netns${dump}`);
      assert.deepEqual(res.events.filter((ev) => ev.probe !== PROBE).map((ev) => ev.probe), [], `nothing else: no packet was made${dump}`);
      // every lookup: the client's netns, no device, no match; the local table first, then main
      const want = { ifname: '', proto: 'tcp', route: { table: 0, type: 'no-match', oif: '', gw: '', err: -11 } };
      assert.deepEqual(
        evs.map(brief),
        evs.map((ev) => ({ ...want, route: { ...want.route, table: routeOf(ev)!.table } })),
        `lookups of an address with no route${dump}`,
      );
      assert.deepEqual(evs.slice(0, 2).map((ev) => routeOf(ev)!.table), [255, 254], `tables in order${dump}`);
      assert.ok(evs.every((ev) => ev.netns === cli.inode && ev.ifindex === 0 && ev.tuple?.dport === 9), `netns is the client's (${cli.inode}), never 0${dump}`);
    },
    { tag: 'rt6none' },
  );
}

async function rejectRoute(t: TestContext): Promise<void> {
  if (!ready(t)) return;
  await withTopology(
    async (topo) => {
      const { client: cli } = topo;
      if (!skipUnlessMet(t, cli.v6 ? null : 'the topology has no IPv6 addresses')) return;
      const prefix = UNUSED_V6.replace(/::[0-9a-f]+$/, '::/64');
      await topo.exec(cli, ['ip', '-6', 'route', 'add', 'unreachable', prefix]);
      const res = await traced(t, ['--route', '-H', UNUSED_V6], async (trace) => {
        const c = await tcpConnect(cli.ns, UNUSED_V6, 9);
        assert.equal(c.outcome, 'error', `connect to ${UNUSED_V6} through an unreachable route`);
        assert.match(c.detail, /EHOSTUNREACH/, `connect to ${UNUSED_V6} through an unreachable route`);
        await trace.waitFor((ev) => routeOf(ev)?.type === 'unreachable', EXPECT_MS);
      });
      if (!res) return;
      assertCleanRun(res);
      assertRouteShapes(res);
      const dump = dumpOf(res);
      const evs = lookupsIn(res, cli, UNUSED_V6);
      const rej = evs.find((ev) => routeOf(ev)?.type === 'unreachable');
      assert.ok(rej, `no unreachable lookup of ${UNUSED_V6}${dump}`);
      // a reject route's next hop is the loopback device: no output device is claimed
      assert.deepEqual(brief(rej), { ifname: '', proto: 'tcp', route: { table: 254, type: 'unreachable', oif: '', gw: '', err: -113 } }, `the reject route${dump}`);
      assert.ok(evs.every((ev) => routeOf(ev)?.table === 254 ? routeOf(ev)?.type === 'unreachable' : routeOf(ev)?.type === 'no-match'), `local: no match, main: the reject route${dump}`);
    },
    { tag: 'rt6rej' },
  );
}

// ------------------------------------------------------------------ (4)

async function textAndExclusion(t: TestContext): Promise<void> {
  if (!ready(t)) return;
  await withTopology(
    async (topo) => {
      const { client: cli, server: srv } = topo;
      if (!skipUnlessMet(t, cli.v6 ? null : 'the topology has no IPv6 addresses')) return;
      const text = await traced(
        t,
        ['--route', '-H', srv.v6, '--proto', 'icmp'],
        async (trace) => {
          const p = await topo.ping(cli, srv.v6, { count: 1 });
          assert.equal(p.received, 1, `ping ${srv.v6}`);
          await new Promise((r) => setTimeout(r, SETTLE_MS));
          void trace;
        },
        false,
      );
      if (!text) return;
      assert.equal(text.code, 0, `exit code; stderr:\n${text.stderr}`);
      const lines = text.nonJson.filter((l) => l.includes(`:${PROBE} `));
      const nsCol = `[${String(cli.inode).padStart(10)}]`;
      const echo = new RegExp(`I_request:::->${srv.v6} .*:${PROBE} table=254 err=0 type=unicast oif=${cli.ifname}( |$)`);
      assert.ok(
        lines.some((l) => l.includes(nsCol) && echo.test(l)),
        `no text line of the client's echo request lookup (${echo}) in:\n${text.nonJson.join('\n')}\n${text.stderr}`,
      );

      const plain = await traced(t, ['-H', srv.v6, '--proto', 'icmp'], async (trace) => {
        const p = await topo.ping(cli, srv.v6, { count: 1 });
        assert.equal(p.received, 1, `ping ${srv.v6}`);
        await trace.waitFor((ev) => ev.probe === 'net_dev_xmit' && ev.netns === srv.inode, EXPECT_MS);
        await new Promise((r) => setTimeout(r, SETTLE_MS));
      });
      if (!plain) return;
      assertCleanRun(plain);
      const dump = dumpOf(plain);
      assert.ok(plain.events.length > 0, `the ping shows without --route${dump}`);
      assert.deepEqual(plain.events.filter((ev) => ev.probe === PROBE || ev.probe === 'fib_table_lookup').map(brief), [], `no route lookups without --route${dump}`);
      assert.doesNotMatch(plain.stderr, /probe fib6_table_lookup: attached/, `fib6_table_lookup attached without --route${dump}`);
    },
    { tag: 'rt6txt' },
  );
}

// ------------------------------------------------------------------ tests

describe('pktpath trace --route: IPv6 route lookups (integration)', () => {
  test('(1) TCP connect to the peer: no match in local (255), unicast out of the veth in main (254); the server sees local', { timeout: TEST_TIMEOUT }, connectToPeer);
  test('(2) no route: no match in 255 and 254, in the client netns (not 0), kept by -N', { timeout: TEST_TIMEOUT }, noRoute);
  test('(3) unreachable route: type unreachable, err -113, no device', { timeout: TEST_TIMEOUT }, rejectRoute);
  test('(4) text form; not attached without --route', { timeout: TEST_TIMEOUT }, textAndExclusion);
});
