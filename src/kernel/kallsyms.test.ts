import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseKallsyms } from './kallsyms.js';

/** test/fixtures/<name>, found by walking up from this file (works from src/ and dist/src/). */
function fixture(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'fixtures', name);
    if (existsSync(candidate)) return readFileSync(candidate, 'utf8');
    const up = dirname(dir);
    if (up === dir) throw new Error(`fixture ${name} not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

const syms = parseKallsyms(fixture('kallsyms.txt'));
const hidden = parseKallsyms(fixture('kallsyms-hidden.txt'));

test('keeps only text symbols, sorted', () => {
  assert.equal(syms.size, 26);
  assert.equal(syms.hidden, false);
  for (const name of ['veth_xmit', 'abort', 'br_weak_hook', 'nft_do_chain_ipv4', '__netif_receive_skb_core.constprop.0']) {
    assert.ok(syms.has(name), name);
  }
  for (const name of ['veth_stats', 'fixed_percpu_data', 'some_rodata', '__bss_start', 'a_bss_var', 'nope']) {
    assert.ok(!syms.has(name), name);
  }
});

test('symbolize and format', () => {
  const cases: [bigint, string][] = [
    [0xffffffff820339c0n + 0x6d3n, 'tcp_v4_rcv+0x6d3'],
    [0xffffffff820339c0n, 'tcp_v4_rcv+0x0'],
    [0xffffffff820339bfn, '__pfx_tcp_v4_rcv+0xf'],
    [0xffffffff81000000n, '_stext+0x0'], // first listed of two aliases
    [0xffffffff81000001n, '_stext+0x1'],
    [0xffffffff81207615n, 'abort+0x5'], // W kept
    [0xffffffff82037001n, 'dup_static+0x1'],
    [0xffffffff82400010n, '0xffffffff82400010'], // data symbols are not kept, and 2 MiB past _etext is in no function
    [0xffffffffc0a1f010n, 'nft_do_chain+0x10 [nf_tables]'],
    [0xffffffffc0a21005n, 'nft_do_chain_ipv4+0x5 [nf_tables]'], // listed out of order in the input
    [0xffffffffc0a1e000n, 'nf_tables_init_net+0x0 [nf_tables]'],
    [0xffffffffc09a0410n, 'veth_poll+0x10 [veth]'],
    [0xffffffffc09b0001n, 'br_weak_hook+0x1 [bridge]'],
    [0xffffffffc0201abcn, 'ftrace_trampoline+0xabc [__builtin__ftrace]'],
    [0xffffffff80ffffffn, '0xffffffff80ffffff'], // below the first symbol
    [0x10n, '0x0000000000000010'],
    [0n, '0x0000000000000000'],
  ];
  for (const [addr, want] of cases) assert.equal(syms.format(addr), want, `0x${addr.toString(16)}`);

  assert.deepEqual(syms.symbolize(0xffffffff820339c5n), { name: 'tcp_v4_rcv', offset: 5n });
  assert.deepEqual(syms.symbolize(0xffffffffc0a1f000n), { name: 'nft_do_chain', offset: 0n, module: 'nf_tables' });
  assert.equal(syms.symbolize(0xffffffff80000000n), null);
  assert.equal(syms.symbolize(-1n), null);
  assert.equal(syms.symbolize(1n << 64n), null);
});

test('address lookup', () => {
  const cases: [string, bigint | undefined][] = [
    ['tcp_v4_rcv', 0xffffffff820339c0n],
    ['_text', 0xffffffff81000000n],
    ['dup_static', 0xffffffff82036000n], // lowest of duplicates
    ['nft_do_chain', 0xffffffffc0a1f000n],
    ['some_static_data', undefined], // data
    ['missing', undefined],
  ];
  for (const [name, want] of cases) assert.equal(syms.address(name), want, name);
});

test('zeroed addresses (kptr_restrict) symbolize nothing', () => {
  assert.equal(hidden.size, 26);
  assert.equal(hidden.hidden, true);
  assert.equal(hidden.symbolize(0xffffffff820339c0n), null);
  assert.equal(hidden.symbolize(0n), null);
  assert.equal(hidden.format(0xffffffff820339c0n), '0xffffffff820339c0');
  assert.equal(hidden.address('tcp_v4_rcv'), undefined);
  assert.ok(hidden.has('tcp_v4_rcv'));
});

test('tolerates odd input', () => {
  const cases: [string, string, number, [bigint, string][]][] = [
    ['empty', '', 0, [[0xffffffff81000000n, '0xffffffff81000000']]],
    ['no trailing newline', 'ffffffff81000000 T a', 1, [[0xffffffff81000002n, 'a+0x2']]],
    ['CRLF', 'ffffffff81000000 T a\r\nffffffff81000010 t b\t[m]\r\n', 2, [[0xffffffff81000011n, 'b+0x1 [m]']]],
    [
      'malformed lines skipped',
      'garbage\nzzzzzzzzzzzzzzzz T bad\nffffffff8100`000 T tick\nffffffff81000000 T\n\nffffffff81000000 TT x\nffffffff81000100 T good\n12345678123456781 T toolong\n',
      1,
      [[0xffffffff81000101n, 'good+0x1'], [0xffffffff81000000n, '0xffffffff81000000']],
    ],
    ['short addresses', '1000 T low\n20 t lower\n', 2, [[0x1004n, 'low+0x4'], [0x25n, 'lower+0x5']]],
  ];
  for (const [what, text, size, lookups] of cases) {
    const k = parseKallsyms(text);
    assert.equal(k.size, size, what);
    for (const [addr, want] of lookups) assert.equal(k.format(addr), want, `${what}: 0x${addr.toString(16)}`);
  }
});

test('host /proc/kallsyms', (t) => {
  let text: string;
  try {
    text = readFileSync('/proc/kallsyms', 'utf8');
  } catch (err) {
    t.skip(`/proc/kallsyms not readable: ${(err as Error).message}`);
    return;
  }
  // CPU time, not wall time: other work on a shared machine must not fail the test
  const c0 = process.cpuUsage();
  const k = parseKallsyms(text);
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000;
  t.diagnostic(`parsed ${text.split('\n').length - 1} lines, ${k.size} text symbols in ${ms.toFixed(1)} ms${k.hidden ? ' (addresses hidden)' : ''}`);
  assert.ok(k.size > 1000);
  assert.ok(k.has('tcp_v4_rcv'));
  if (k.hidden) return;
  const addr = k.address('tcp_v4_rcv');
  assert.ok(addr !== undefined && addr > 1n << 53n, 'kernel addresses exceed 2^53');
  assert.equal(k.format(addr + 0x10n), 'tcp_v4_rcv+0x10');
});
