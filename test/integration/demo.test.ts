import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, listNetns, requireRoot } from '../helpers/netns.js';

// `npm run demo` is the README's first command: it must trace real packets and clean up.
test('the demo shows the three investigations and leaves nothing behind', (t) => {
  if (!requireRoot(t)) return;
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/src/demo/main.js')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `demo exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /client: connection refused/);
  // the short view shows the SYN's arrival in the server's namespace (the first receive step there)
  assert.match(r.stdout, /T_SYN:10\.199\.77\.1:\d+->10\.199\.77\.2:8080 \S+:(netif_rx|netif_receive_skb) .*netns=ppdemo\d+-srv/);
  assert.match(r.stdout, /T_ACK,RST:10\.199\.77\.2:8080->10\.199\.77\.1:\d+ /);
  assert.match(r.stdout, /kfree_skb (seq=\d+ ack=\d+ )?reason=NO_SOCKET at tcp_v4_rcv/);
  assert.match(r.stdout, /kfree_skb (seq=\d+ ack=\d+ )?reason=NETFILTER_DROP/);
  assert.match(r.stdout, /:2\.filter\.OUTPUT\.DROP (seq=\d+ ack=\d+ )?rule="[^"]*drop # handle \d+"/);
  assert.match(r.stdout, /why: dropped NO_SOCKET/);
  if (/2b\. iptables-legacy: skipped/.test(r.stdout)) t.diagnostic('iptables-legacy part skipped by the demo');
  else {
    // Mytracer's investigation 2, table by table
    for (const table of ['raw', 'mangle', 'nat']) assert.match(r.stdout, new RegExp(`:2\\.${table}\\.OUTPUT\\.ACCEPT (seq=\\d+ ack=\\d+ )?rule="`), `${table} step`);
    assert.match(r.stdout, /:2\.filter\.OUTPUT\.DROP (seq=\d+ ack=\d+ )?rule="-A OUTPUT -d 10\.199\.77\.2\/32 -p tcp -m tcp --dport 8080 -j DROP"/);
  }
  // investigation 3 told by the diagnosis: the replies wait in the server's tbf qdisc
  assert.match(r.stdout, /client: received 40000 bytes/);
  assert.match(r.stdout, /verdict: replies of tcp 10\.199\.77\.2:8081 -> 10\.199\.77\.1:\d+ waited in the tbf qdisc on eth0 of netns ppdemo\d+-srv: \d+ ms median/);
  assert.match(r.stdout, /latency b>a qdisc_enqueue > qdisc_dequeue on eth0@ppdemo\d+-srv \[qdisc\]/);
  assert.deepEqual(listNetns().filter((n) => n.startsWith('ppdemo')), [], 'demo namespaces removed');
});
