import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ev, NO_RARE, packIp, packShape } from './devent.js';

const ev = (shape: number, ip: number): Ev =>
  new Ev(1, 5e9, 'netif_rx', 'rx', 7, 'netif_rx@7/eth0', 'eth0', 0x10n, null, shape, 'tcp', 60, false, new Uint8Array(6), ip, 0, NO_RARE);

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
