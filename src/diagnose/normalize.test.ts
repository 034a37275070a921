import { test } from 'node:test';
import assert from 'node:assert/strict';
import { functionOf } from './normalize.js';

test('functionOf: the bare function of a location, whether built in or in a module', () => {
  const cases: [string, string][] = [
    ['tcp_v4_rcv+0x9e', 'tcp_v4_rcv'],
    ['tcp_v4_rcv+0x9e/0x1200', 'tcp_v4_rcv'],
    // distribution kernels: nf_tables and veth are modules (the 6.12 guest)
    ['nft_do_chain+0x40f [nf_tables]', 'nft_do_chain'],
    ['veth_xdp_rcv_skb+0x1f2 [veth]', 'veth_xdp_rcv_skb'],
    ['ipt_do_table+0x0 [ip_tables]', 'ipt_do_table'],
    ['skb_release_data.isra.0+0x12', 'skb_release_data.isra.0'],
    ['0xffffffffc0a01234', '0xffffffffc0a01234'],
    ['tcp_v4_rcv', 'tcp_v4_rcv'],
  ];
  for (const [sym, fn] of cases) assert.equal(functionOf(sym), fn, sym);
});
