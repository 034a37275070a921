/**
 * Netfilter: DROP and REJECT in each direction, conntrack INVALID. Where tcpdump sees
 * the packet depends on the direction: on receive the capture point comes before
 * netfilter, on transmit after it (stages.ts).
 */
import type { Relation, Rule } from './types.js';

/** a drop of the flow's own packets (an ICMP error about the flow has its own rule) */
const DROPPED = { reason: ['NETFILTER_DROP'], related: false } as const;
/** the --iptable step that decided (optional: without --iptable the rule is not named) */
const NF_STEP: Relation = { role: 'nf', scope: 'flow', dir: 'same', netns: 'same', match: { nf: { verdict: ['DROP', 'REJECT'] } }, optional: true };
const RECEIVED: Relation = { role: 'received', scope: 'skb', order: 'before', netns: 'same', match: { probe: ['netif_receive_skb'] } };
const CONSEQUENCES = ['tcp.syn-unanswered', 'tcp.retransmit', 'tcp.rst-received', 'benign.rst-after-close', 'latency.dominant-hop'];

export const NETFILTER_RULES: readonly Rule[] = [
  {
    id: 'nf.reject',
    level: 'error',
    title: 'rejected by a firewall rule (ICMP error back)',
    priority: 62,
    anchor: DROPPED,
    with: [{ role: 'icmp', scope: 'skb', match: { sent: { type: [3] } } }, NF_STEP],
    explains: CONSEQUENCES,
    verdict: '{flow} rejected by netfilter in netns {netns}{by}: the kernel answered {icmp}, the client sees "{sees}"',
    what: 'netfilter in netns {netns} rejected {flow} [{packet}]{by} and sent {icmp} back; the sender\'s connect() fails at once with "{sees}" (not a routing problem, even when it says "No route to host")',
    advice: 'find the REJECT rule (iptables-save -c, nft -a list ruleset in netns {netns}; firewalld adds one with admin-prohibited) and allow the flow',
    source: 'seed 004 (curl: No route to host, admin prohibited filter)',
  },
  {
    id: 'nf.reject-rule',
    level: 'error',
    title: 'rejected by a firewall rule',
    priority: 61,
    anchor: DROPPED,
    with: [{ ...NF_STEP, optional: false, match: { nf: { rule: 'reject' } } }],
    explains: CONSEQUENCES,
    needs: ['iptable'],
    verdict: '{flow} rejected by netfilter in netns {netns}{by}: {rejectAnswer}, the client sees "{sees}"',
    what: 'netfilter in netns {netns} dropped {flow} [{packet}]{by} and answered {rejectAnswer}; the sender sees "{sees}"',
    advice: 'allow the flow, or remove the REJECT rule (iptables-save -c, nft -a list ruleset in netns {netns})',
  },
  {
    id: 'nf.reject-tcp-reset',
    level: 'error',
    title: 'rejected with a TCP reset by a firewall rule',
    priority: 63,
    anchor: DROPPED,
    with: [
      // netfilter sends its reset before the dropped packet is freed: no order
      { role: 'reset', scope: 'flow', dir: 'reverse', netns: 'same', match: { flags: { all: ['RST'] }, origin: 'local', stage: ['tx-queue', 'tx'] } },
      { role: 'stack-reset', scope: 'flow', match: { probe: ['tcp_send_reset'] }, absent: true },
      NF_STEP,
    ],
    // a router's reset looks forged to the client: it is, by the rule
    explains: [...CONSEQUENCES, 'tcp.no-listener', 'tcp.rst-injected'],
    verdict: '{flow} rejected with a TCP reset by netfilter in netns {netns}{by}: the client sees "Connection refused"',
    what: 'a rule in netns {netns}{by} dropped {flow} [{packet}] and answered with a TCP reset made by netfilter, not by a socket: to the client it looks exactly like a closed port ("Connection refused")',
    advice: 'find the REJECT --reject-with tcp-reset rule (iptables-save -c, nft -a list ruleset in netns {netns}); the service itself may well be listening',
  },
  {
    id: 'nf.ct-invalid',
    level: 'error',
    title: 'dropped as conntrack INVALID',
    priority: 58,
    anchor: DROPPED,
    with: [{ ...NF_STEP, optional: false, match: { nf: { rule: 'invalid' } } }],
    explains: CONSEQUENCES,
    needs: ['iptable'],
    verdict: '{flow} dropped in netns {netns} because conntrack found it INVALID{by}',
    what: 'conntrack in netns {netns} could not place {flow} [{packet}] in a known connection (out of window, no handshake seen, bad flags) and the rule{by} dropped it',
    advice: 'look at why it is invalid: asymmetric routing (conntrack sees one direction only), a state lost after a restart or a table flush, or window tracking (sysctl net.netfilter.nf_conntrack_tcp_be_liberal=1 to test)',
  },
  {
    id: 'nf.output-drop',
    level: 'error',
    title: 'dropped by netfilter on the way out',
    priority: 40,
    anchor: { ...DROPPED, origin: 'local' },
    with: [NF_STEP],
    explains: CONSEQUENCES,
    verdict: '{flow} dropped by netfilter in netns {netns} on its way out{by}',
    what: 'netfilter dropped {flow} [{packet}] in the output path of netns {netns}{by}, before any device: tcpdump on any interface of {netns} would NOT show it (on transmit the capture point comes after netfilter)',
    advice: 'look for DROP rules in OUTPUT/POSTROUTING of netns {netns}: iptables-save -c, nft -a list ruleset',
    source: 'seed 002, investigation 2',
  },
  {
    id: 'nf.forward-drop',
    level: 'error',
    title: 'dropped by netfilter while forwarded',
    priority: 42,
    anchor: { ...DROPPED, origin: 'received' },
    with: [RECEIVED, { ...NF_STEP, optional: false, match: { nf: { verdict: ['DROP'], chain: ['FORWARD'] } } }],
    explains: CONSEQUENCES,
    needs: ['iptable'],
    verdict: '{flow} dropped by netfilter in FORWARD of netns {netns}{by}',
    what: 'netns {netns} forwards {flow} [{packet}], and its FORWARD chain{by} dropped it: tcpdump -i {dev:received} there would show it arrive, no interface would show it leave',
    advice: 'allow the flow in FORWARD of netns {netns} (iptables-save -c, nft -a list ruleset)',
  },
  {
    id: 'nf.input-drop',
    level: 'error',
    title: 'dropped by netfilter on the way in',
    priority: 41,
    anchor: { ...DROPPED, origin: 'received' },
    with: [RECEIVED, NF_STEP],
    explains: CONSEQUENCES,
    verdict: '{flow} dropped by netfilter in netns {netns} on its way in{by}',
    what: 'netfilter dropped {flow} [{packet}] after netns {netns} received it on {dev:received}{by}: tcpdump -i {dev:received} there WOULD show it arrive (on receive the capture point comes before netfilter), and nothing answers it',
    advice: 'look for DROP rules in PREROUTING/INPUT (or FORWARD) of netns {netns}: iptables-save -c, nft -a list ruleset',
  },
];
