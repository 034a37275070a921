import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ev, macHi, macLo, makeSpot, NO_RARE, packIp, packShape } from './devent.js';

const SITE = { probe: 'netif_rx', netns: 7, dev: 'eth0', place: 'netif_rx@7/eth0' };
const SPOT = makeSpot(SITE, 7, SITE.place, 'rx', 'tcp', 0, 0);

const ev = (shape: number, ip: number): Ev =>
  new Ev(1, 5e9, SPOT, 0x10n, null, shape, 60, false, ip, 0, NO_RARE);

test('the packed fields read back as given, at their limits too', () => {
  const cases: [0 | 1, number, number, number][] = [
    [0, 0, -1, -1],
    [1, 0x12, -1, -1],
    [0, 0xff, -1, -1],
    [1, 0, 0, 0],
    [0, 0, 3, 13],
    [1, 0, 255, 255],
  ];
  for (const [dir, flags, type, code] of cases) {
    const e = ev(packShape(dir, flags, type, code), 0);
    assert.deepEqual([e.dir, e.tcpFlags, e.icmpType, e.icmpCode], [dir, flags, type, code], `${dir} ${flags} ${type} ${code}`);
  }
  const ips: [number | undefined, number | undefined][] = [[undefined, undefined], [0, 0], [64, 54321], [255, 65535], [1, undefined], [undefined, 7]];
  for (const [ttl, id] of ips) {
    const e = ev(0, packIp(ttl, id));
    assert.deepEqual([e.ttl, e.ipId], [ttl, id], `${ttl} ${id}`);
  }
});

test('an event without rare parts reads them as absent', () => {
  const e = ev(0, 0);
  assert.deepEqual([e.reason, e.at, e.nf, e.route, e.sent, e.related, e.fexit], [null, null, null, null, null, false, false]);
});

test('time and namespace read back whole, past 2^31 and 2^32; a namespace filled in later changes the event and its place, not its shared site', () => {
  const cases: [number, number][] = [
    [0, 0],
    [1_073_741_823, 7],
    [1_073_741_824, 4026531840],
    [5_000_000_123, 4026532001],
    [Number.MAX_SAFE_INTEGER - 1, 4294967295],
  ];
  for (const [ts, netns] of cases) {
    const e = new Ev(1, ts, makeSpot(SITE, netns, SITE.place, 'rx', '', 0, 0), 0n, null, 0, 0, false, 0, 0, NO_RARE);
    assert.deepEqual([e.ts, e.netns], [ts, netns], `${ts} ${netns}`);
    e.netns = 4026531841;
    assert.deepEqual([e.netns, e.place, e.probe, e.dev], [4026531841, 'netif_rx@4026531841/eth0', 'netif_rx', 'eth0']);
    assert.deepEqual([SPOT.netns, SPOT.place, e.stage], [7, 'netif_rx@7/eth0', 'rx']);
  }
});

test('the destination MAC reads back as its 6 bytes, zeros and 0xff too', () => {
  const macs = [[0, 0, 0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x02, 0x42, 0xac, 0x11, 0x00, 0x02], [0x80, 0, 0, 0, 0, 0x01]];
  for (const m of macs) {
    const mac = Uint8Array.from(m);
    const e = new Ev(1, 0, makeSpot(SITE, 7, SITE.place, 'rx', '', macHi(mac), macLo(mac)), 0n, null, 0, 0, false, 0, 0, NO_RARE);
    assert.deepEqual([...e.mac], m);
  }
});

test('events of one Spot moved to one namespace share the moved Spot; to another, they do not', () => {
  const at = makeSpot(SITE, 0, 'netif_rx@0/eth0', 'free', '', 0, 0);
  const e = (): Ev => new Ev(1, 0, at, 0n, null, 0, 0, false, 0, 0, NO_RARE);
  const [a, b, c] = [e(), e(), e()];
  a.netns = 9;
  b.netns = 9;
  c.netns = 10;
  assert.deepEqual([a.place, b.place, c.place, a.stage, at.netns], ['netif_rx@9/eth0', 'netif_rx@9/eth0', 'netif_rx@10/eth0', 'free', 0]);
  assert.equal(at.moved?.netns, 10);
});
