import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOT_COUNTERS, parseSnmp6, parseSnmpPairs, parseSoftnet } from './procnet.js';
import { fixtureText } from '../../test/helpers/fixtures.js';

function nstatValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

test('the nstat files give nstat -asz\'s names, and values no larger (the files were read just before nstat ran)', () => {
  const ours = new Map([
    ...parseSnmpPairs(fixtureText('host/proc-net-snmp.txt')),
    ...parseSnmpPairs(fixtureText('host/proc-net-netstat.txt')),
    ...parseSnmp6(fixtureText('host/proc-net-snmp6.txt')),
  ]);
  const nstat = nstatValues(fixtureText('host/nstat-asz.txt'));
  assert.deepEqual([...ours.keys()].sort(), [...nstat.keys()].sort());
  let equal = 0;
  for (const [name, v] of ours) {
    assert.ok(v <= nstat.get(name)!, `${name}: ${v} > nstat's ${nstat.get(name)}`);
    if (v === nstat.get(name)) equal++;
  }
  assert.ok(equal > ours.size * 0.9, `${equal} of ${ours.size} equal`);
  for (const n of NOT_COUNTERS) assert.ok(!ours.has(n), `${n} is a setting or gauge, left out as nstat does`);
});

test('snmp line pairs: prefix + field, negative values, a pair that does not line up is skipped', () => {
  const text = 'Tcp: RtoMin ActiveOpens\nTcp: 200 -1\nUdp: InDatagrams NoPorts\nUdp: 5\nIcmpMsg: InType3\nIcmpMsg: 7\n';
  assert.deepEqual([...parseSnmpPairs(text)], [['TcpActiveOpens', -1], ['IcmpMsgInType3', 7]]);
});

test('softnet: this kernel\'s 15 columns with the CPU number; an old 11-column line numbered by position', () => {
  const cpus = parseSoftnet(fixtureText('host/proc-net-softnet_stat.txt'));
  assert.deepEqual(cpus.map((c) => c.cpu), [0, 1]);
  assert.equal(cpus[0]!.processed, 0x2ca42e);
  assert.equal(cpus[0]!.time_squeeze, 1);
  assert.equal(cpus[0]!.backlog, 0);
  const old = parseSoftnet('00000010 00000002 00000003 00000000 00000000 00000000 00000000 00000000 00000000 00000004 00000005\n');
  assert.deepEqual(old, [{ cpu: 0, processed: 16, dropped: 2, time_squeeze: 3, received_rps: 4, flow_limit_count: 5 }]);
  assert.deepEqual(parseSoftnet('garbage\n\n'), []);
});
