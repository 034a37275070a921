import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trimFreeingFrames } from './frames.js';

test('the freeing frames go, the first frame is the code that dropped', () => {
  const cases: [string[], string[]][] = [
    [['sk_skb_reason_drop+0x90', 'nft_do_chain+0x3e8 [nf_tables]', 'nf_hook_slow+0x43'], ['nft_do_chain+0x3e8 [nf_tables]', 'nf_hook_slow+0x43']],
    [['kfree_skb_list_reason+0x10', '__dev_queue_xmit+0x20'], ['__dev_queue_xmit+0x20']],
    [['tcp_v4_rcv+0x1'], ['tcp_v4_rcv+0x1']],
    [['bpf_dispatcher_xdp+0x1a97 [bpf]', 'bpf_trace_run4+0xfc', '__traceiter_kfree_skb+0x41', 'sk_skb_reason_drop+0x90', '__udp4_lib_rcv+0x4bc'], ['__udp4_lib_rcv+0x4bc']],
    [['kfree_skb_reason+0x1'], ['kfree_skb_reason+0x1']],
    [[], []],
  ];
  for (const [input, want] of cases) assert.deepEqual(trimFreeingFrames(input), want, input.join(' < '));
});
