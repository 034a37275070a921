import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../shared/errors.js';
import { compileFilter, filterConfig, LINKTYPE, noFilterBodies, PLACEHOLDER } from './filter.js';
import { pcapCompile } from './io/pcap.js';
import { runBody } from '../../test/helpers/ebpf-vm.js';

const SLOTS = { l2: 2048, l3: 2048 };
const compile = (expr: string): ReturnType<typeof compileFilter> => compileFilter(expr, pcapCompile, SLOTS);

test('an expression gets both forms, and what each reads', () => {
  const f = compile('tcp port 9 and host 10.255.0.1');
  assert.equal(f.bodies[PLACEHOLDER.l2]!.length, 2048 * 8);
  assert.equal(f.bodies[PLACEHOLDER.l3]!.length, 2048 * 8);
  assert.deepEqual([f.needL2, f.needL3, f.l3Unavailable], [14 + 60 + 4, 60 + 4, undefined]);
  assert.deepEqual(filterConfig(f), { pcap: 1, pcap_l3: 1, pcap_need_l2: 78, pcap_need_l3: 64 });
  assert.deepEqual(filterConfig(undefined), { pcap: 0, pcap_l3: 0, pcap_need_l2: 0, pcap_need_l3: 0 });
});

test('link-layer expressions have no raw-IP form: such skbs never match them', () => {
  const table: [string, RegExp][] = [
    ['ether host 02:00:00:00:aa:01', /ethernet addresses supported only on/],
    ['vlan and tcp', /no VLAN support for Raw IP/],
    ['arp', /rejects all packets/],
    ['ether[0] & 1 != 0', /reads link-layer header bytes/],
    ['link[12:2] = 0x800', /reads link-layer header bytes/],
  ];
  for (const [expr, why] of table) {
    const f = compile(expr);
    assert.match(f.l3Unavailable ?? '', why, expr);
    assert.equal(filterConfig(f).pcap_l3, 0);
    assert.equal(runBody(f.bodies[PLACEHOLDER.l3]!, new Uint8Array(64), 64), 0, 'the raw-IP body rejects');
  }
});

test("libpcap's own message for what it rejects; one line for what a probe cannot run", () => {
  const table: [string, RegExp][] = [
    ['tcp port', /^can't parse filter expression: syntax error$/],
    ['host 300.1.1.1', /^invalid IPv4 address '300.1.1.1'$/],
    ['ip broadcast', /^netmask not known, so 'ip broadcast' not supported$/],
    ['inbound', /^cannot run "inbound" at a probe: `inbound` and `outbound` need the capture direction/],
    ['ip6 protochain 6', /^cannot run "ip6 protochain 6" at a probe: the compiled expression loops/],
    ['ip[600] = 1', /^cannot run "ip\[600\] = 1" at a probe: the expression reads packet byte 615; a probe copies the first 512 bytes$/],
  ];
  for (const [expr, why] of table) {
    assert.throws(() => compile(expr), (err: unknown) => err instanceof UsageError && err.exitCode === 2 && why.test(err.message), expr);
  }
  assert.throws(() => compileFilter('tcp', pcapCompile, { l2: 8, l3: 2048 }), /a probe has room for 8/);
});

test('a run without an expression gets bodies that return at once', () => {
  const bodies = noFilterBodies(SLOTS);
  for (const name of Object.values(PLACEHOLDER)) assert.equal(runBody(bodies[name]!, new Uint8Array(0), 0), 0);
  assert.equal(LINKTYPE.raw, 12);
});
