/** What both formatters share (shared.ts, caches.ts), run against each of them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FormatOptions, Formatter } from './shared.js';
import type { Resolver } from './resolver.js';
import { makeJsonFormatter } from './json.js';
import { makeTextFormatter } from './text.js';
import { ev, resolver, tcp } from '../../test/helpers/formatting.js';

const FORMATTERS: [string, (r: Resolver, o: FormatOptions) => Formatter, (line: string, name: string) => boolean][] = [
  ['text', makeTextFormatter, (line, name) => line.endsWith(` netns=${name}`)],
  ['json', makeJsonFormatter, (line, name) => line.includes(`,"netns_name":"${name}",`)],
];

test('netns names are looked up again later, not per event', () => {
  for (const [kind, make, named] of FORMATTERS) {
    const names = new Map<number, string>();
    const r = resolver(names);
    const f = make(r, { time: 'default', stack: false });
    for (let i = 0; i < 100; i++) assert.ok(!f.format(ev()).includes('netns=') && !named(f.format(ev()), 'late'), kind);
    assert.equal(r.netnsAsks, 1, kind);
    names.set(4026531992, 'late');
    let seen = -1;
    for (let i = 0; i < 10000 && seen < 0; i++) if (named(f.format(ev()), 'late')) seen = i;
    assert.ok(seen >= 0 && seen < 5000, `${kind}: name picked up after ${seen} events`);
    const asks = r.netnsAsks;
    for (let i = 0; i < 10000; i++) f.format(ev());
    assert.equal(r.netnsAsks, asks, `${kind}: known names are not asked again`);
  }
});

test('caches are not fooled by arrays the decoder reuses', () => {
  const t = tcp();
  const mac = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const e = ev({ tuple: t, dstMac: mac });
  const text = makeTextFormatter(resolver(), { time: 'default', stack: false });
  const json = makeJsonFormatter(resolver(), { time: 'default', stack: false });
  const a1 = text.format(e);
  const j1 = JSON.parse(json.format(e)) as { tuple: { saddr: string; sport: number }; dst_mac: string };
  t.saddr[3] = 1;
  t.sport = 1;
  mac[5] = 0xff;
  const a2 = text.format(e);
  const j2 = JSON.parse(json.format(e)) as typeof j1;
  assert.match(a1, / 010203040506 T_SYN:192\.168\.88\.154:34060->/);
  assert.match(a2, / 0102030405ff T_SYN:192\.168\.88\.1:1->/);
  assert.equal(j1.tuple.saddr, '192.168.88.154');
  assert.equal(j2.tuple.saddr, '192.168.88.1');
  assert.equal(j2.tuple.sport, 1);
  assert.equal(j2.dst_mac, '01:02:03:04:05:ff');
  // a different skb with the same tuple formats the same tuple text
  assert.ok(text.format(ev({ tuple: tcp(), skb: 1n })).includes('T_SYN:192.168.88.154:34060->192.168.40.230:8080 1.0:'));
});

test('every formatter: one line per event when no stack frames are asked, whatever the strings hold', () => {
  const cases: [string, Parameters<typeof ev>[0]][] = [
    ['plain', {}],
    ['no tuple', { tuple: null, flags: 0 }],
    ['odd ifname and comm', { ifname: 'a\nb', comm: 'c\r\nd' }],
    ['stack frames not asked', { stack: [0xffffffff81000020n] }],
  ];
  for (const [kind, make] of FORMATTERS) {
    const f = make(resolver(), { time: 'default', stack: false });
    for (const [name, over] of cases) {
      const line = f.format(ev(over));
      assert.ok(!line.includes('\n') && !line.includes('\r'), `${kind} ${name}: one line`);
    }
  }
});
