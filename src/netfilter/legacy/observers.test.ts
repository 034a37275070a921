import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LegacyPathTracker, OBSERVER_SLOTS, PRIORITY_TRIES, natConsulted, planObservers, priorityCandidates } from './observers.js';
import type { ObserverSpot } from './observers.js';
import type { RawEvent } from '../../engine/event.js';

const NS = 4026532000;

function ev(spot: Pick<ObserverSpot, 'pf' | 'hookNum' | 'slot'>, skb: bigint, extra: Partial<RawEvent> = {}): RawEvent {
  return {
    tsNs: 1n,
    skb,
    location: 0n,
    netns: NS,
    ifindex: 3,
    mark: 0,
    len: 60,
    pid: 0,
    dropReason: 0,
    aux: spot.hookNum,
    aux2: spot.slot,
    aux3: spot.pf,
    probe: 202,
    cpu: 0,
    pktType: 0,
    flags: 0,
    dstMac: new Uint8Array(6),
    ifname: 'veth0',
    comm: '',
    tuple: null,
    stack: null,
    ...extra,
  };
}

/** The spot that starts (`before`) or ends (`after`) a table at a hook (ipv4). */
const at = (spots: readonly ObserverSpot[], table: string, hook: string, side: 'before' | 'after'): ObserverSpot => {
  const s = spots.find((x) => (side === 'before' ? x.before : x.after) === table && x.hook === hook && x.family === 'ipv4');
  assert.ok(s, `no spot ${side} ${table} at ${hook}`);
  return s;
};

const label = (s: ObserverSpot): string => `${s.slot}:${s.after ?? '-'}|${s.before ?? '-'} ${s.priority}${s.exact ? ' exact' : ''}`;

test('planObservers: spots at priority -1/+1 around each table, one shared spot where no kernel hook lies between', () => {
  const spots = planObservers({ ipv4: ['filter', 'raw', 'nat', 'mangle', 'security'], ipv6: [] });
  assert.deepEqual(
    spots.filter((s) => s.hook === 'output').map(label),
    [
      '0:-|raw -301 exact',
      '1:raw|- -299', // conntrack (-200) lies between raw and mangle
      '2:-|mangle -151 exact',
      '3:mangle|nat -149',
      '4:nat|filter -99',
      '5:filter|security 1',
      '6:security|- 51',
    ],
  );
  // every slot fits the programs in the object, and is unique per (pf, hook)
  for (const s of spots) assert.ok(s.slot < OBSERVER_SLOTS);
  const keys = spots.map((s) => `${s.pf}/${s.hookNum}/${s.slot}`);
  assert.equal(new Set(keys).size, keys.length);
  // nat hooks in at SNAT priority on input and postrouting, after filter and security
  assert.deepEqual(spots.filter((s) => s.hook === 'input').map(label), ['0:-|mangle -151 exact', '1:mangle|filter -149', '2:filter|security 1', '3:security|nat 51', '4:nat|- 101']);
  // filter has no prerouting hook
  assert.ok(!spots.some((s) => (s.after === 'filter' || s.before === 'filter') && s.hook === 'prerouting'));
});

test('planObservers: only the tables a namespace has, per family; unknown tables ignored', () => {
  const spots = planObservers({ ipv4: ['filter'], ipv6: ['raw', 'broute_x'] });
  assert.deepEqual([...new Set(spots.map((s) => `${s.family} ${s.before ?? s.after}`))], ['ipv4 filter', 'ipv6 raw']);
  assert.ok(spots.filter((s) => s.family === 'ipv6').every((s) => s.pf === 10));
  assert.equal(spots.length, 3 * 2 + 2 * 2);
  assert.deepEqual(planObservers({ ipv4: [], ipv6: [] }), []);
});

test('LegacyPathTracker: before+after is an ACCEPT step; before then NETFILTER_DROP is the DROP step', () => {
  const spots = planObservers({ ipv4: ['raw', 'filter'], ipv6: [] });
  const tr = new LegacyPathTracker();
  tr.setSpots(NS, spots);
  assert.ok(tr.watches(NS));
  assert.ok(!tr.watches(NS + 1));
  const skb = 0xffff0001n;
  assert.equal(tr.observe(ev(at(spots, 'raw', 'output', 'before'), skb)), null);
  // raw -> filter at output has conntrack between: separate spots, the filter one exact
  const acc = tr.observe(ev(at(spots, 'raw', 'output', 'after'), skb));
  assert.deepEqual(acc, { pf: 2, family: 'ipv4', table: 'raw', chain: 'OUTPUT', hook: 'output', verdict: 'ACCEPT', ifname: 'veth0', ifindex: 3, tuple: null, exact: true });
  assert.equal(tr.observe(ev(at(spots, 'filter', 'output', 'before'), skb, { ifname: 'eth1', ifindex: 7 })), null);
  // the drop event has no device: the step takes the one the observer saw
  const drop = tr.freed(ev(at(spots, 'filter', 'output', 'before'), skb, { ifname: '', ifindex: 0 }), 'NETFILTER_DROP');
  assert.deepEqual(drop, { pf: 2, family: 'ipv4', table: 'filter', chain: 'OUTPUT', hook: 'output', verdict: 'DROP', ifname: 'eth1', ifindex: 7, tuple: null, exact: true });
  // answered once
  assert.equal(tr.freed(ev(at(spots, 'filter', 'output', 'before'), skb), 'NETFILTER_DROP'), null);
});

test('LegacyPathTracker: a shared spot ends one table and starts the next; a drop after it is not exact', () => {
  const spots = planObservers({ ipv4: ['mangle', 'filter', 'security'], ipv6: [] });
  const tr = new LegacyPathTracker();
  tr.setSpots(NS, spots);
  const shared = at(spots, 'mangle', 'forward', 'after');
  assert.equal(shared.before, 'filter');
  tr.observe(ev(at(spots, 'mangle', 'forward', 'before'), 7n));
  assert.equal(tr.observe(ev(shared, 7n))?.table, 'mangle');
  const next = tr.observe(ev(at(spots, 'filter', 'forward', 'after'), 7n));
  assert.deepEqual([next?.table, next?.verdict, next?.exact], ['filter', 'ACCEPT', false]);
  // now inside security; dropped there
  const drop = tr.freed(ev(shared, 7n), 'NETFILTER_DROP');
  assert.deepEqual([drop?.table, drop?.verdict, drop?.exact], ['security', 'DROP', false]);
});

test('LegacyPathTracker: other reasons, other skbs, other namespaces and unmatched after-spots give nothing', () => {
  const spots = planObservers({ ipv4: ['filter'], ipv6: [] });
  const tr = new LegacyPathTracker();
  tr.setSpots(NS, spots);
  const before = at(spots, 'filter', 'input', 'before');
  const after = at(spots, 'filter', 'input', 'after');
  tr.observe(ev(before, 1n));
  assert.equal(tr.freed(ev(before, 2n), 'NETFILTER_DROP'), null, 'another skb');
  assert.equal(tr.freed(ev(before, 1n), 'NO_SOCKET'), null, 'not a netfilter drop');
  assert.equal(tr.freed(ev(before, 1n), 'NETFILTER_DROP'), null, 'pending was cleared by the free');
  assert.equal(tr.observe(ev(after, 3n)), null, 'after without before');
  assert.equal(tr.observe(ev(before, 4n, { netns: NS + 1 })), null);
  assert.equal(tr.observe(ev(after, 4n, { netns: NS + 1 })), null, 'no spots in that namespace');
  // after of another hook does not close the pending table
  tr.observe(ev(before, 5n));
  assert.equal(tr.observe(ev(at(spots, 'filter', 'output', 'after'), 5n)), null);
  tr.observe(ev(before, 6n));
  assert.equal(tr.freed(ev(before, 6n), 'NETFILTER_DROP')?.hook, 'input');
});

test('nat: no step once NAT is set up for the connection (conntrack status from the observer)', () => {
  const TRACKED = 1n << 63n;
  assert.equal(natConsulted('output', 0n), false, 'untracked: NAT passes it untouched');
  assert.equal(natConsulted('output', TRACKED), true, 'new connection');
  assert.equal(natConsulted('output', TRACKED | (1n << 8n)), false, 'DNAT done');
  assert.equal(natConsulted('postrouting', TRACKED | (1n << 8n)), true, 'SNAT side still to do');
  assert.equal(natConsulted('postrouting', TRACKED | (1n << 7n)), false, 'SNAT done');

  const spots = planObservers({ ipv4: ['nat'], ipv6: [] });
  const tr = new LegacyPathTracker();
  tr.setSpots(NS, spots);
  // the step shows the packet as it entered the table, not as DNAT left it
  const before = { family: 4 as const, saddr: new Uint8Array([10, 0, 0, 1]), daddr: new Uint8Array([10, 0, 0, 80]), sport: 5, dport: 80, l3proto: 0x800, l4proto: 6, tcpFlags: 2, icmpType: 0, icmpCode: 0, icmpId: 0 };
  tr.observe(ev(at(spots, 'nat', 'output', 'before'), 9n, { location: TRACKED, tuple: before }));
  const nat = tr.observe(ev(at(spots, 'nat', 'output', 'after'), 9n, { tuple: { ...before, daddr: new Uint8Array([10, 0, 0, 2]), dport: 8080 } }));
  assert.equal(nat?.table, 'nat');
  assert.equal(nat?.tuple, before);
  tr.observe(ev(at(spots, 'nat', 'output', 'before'), 9n, { location: TRACKED | (1n << 8n) }));
  assert.equal(tr.observe(ev(at(spots, 'nat', 'output', 'after'), 9n)), null);
});

test("setSpots replaces a namespace's spots", () => {
  const tr = new LegacyPathTracker();
  tr.setSpots(NS, planObservers({ ipv4: ['filter'], ipv6: [] }));
  tr.setSpots(NS, []);
  assert.equal(tr.size, 0);
  assert.ok(!tr.watches(NS));
});

test('priorityCandidates: a taken priority moves the spot away from the table it follows (or precedes)', () => {
  const spots = planObservers({ ipv4: ['raw', 'mangle', 'nat', 'filter', 'security'], ipv6: [] });
  assert.deepEqual(priorityCandidates(at(spots, 'raw', 'output', 'before')).slice(0, 3), [-301, -302, -303]);
  assert.deepEqual(priorityCandidates(at(spots, 'filter', 'output', 'after')).slice(0, 3), [1, 2, 3]);
  // a spot stays between its table and the next one, and clear of the kernel's own hooks
  for (const s of spots) {
    for (const p of priorityCandidates(s)) {
      assert.ok(![-400, -300, -225, -200, -150, -100, 0, 50, 100].includes(p), `${label(s)} may move onto ${p}`);
      assert.ok(Math.abs(p - s.priority) < PRIORITY_TRIES);
    }
  }
});
