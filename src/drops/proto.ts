/** The protocol label of a drop row: the L4 protocol, with "6" for IPv6 ("udp6"). Pure. */
import { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, protoName } from '../output/tuple.js';

/**
 *   tcp udp icmp (IPv4)   tcp6 udp6 icmpv6 (IPv6)   ipv4/ipv6 + number for other IP protocols
 *   arp   0x88cc (another ethertype)   - (not known: no header the parser could read)
 */
export function protoLabel(l3proto: number, l4proto: number): string {
  if (l3proto === 0) return '-';
  if (l3proto === ETH_P_ARP || (l3proto !== ETH_P_IP && l3proto !== ETH_P_IPV6)) return protoName(l4proto, l3proto);
  const v6 = l3proto === ETH_P_IPV6;
  if (l4proto === 6 || l4proto === 17) return `${protoName(l4proto, l3proto)}${v6 ? '6' : ''}`;
  if (l4proto === 1 || l4proto === 58) return protoName(l4proto, l3proto);
  return `${v6 ? 'ipv6' : 'ipv4'}/${l4proto}`;
}
