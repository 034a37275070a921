/**
 * Drop reasons hidden by default (`--all` shows them): frees the kernel reports through
 * kfree_skb that are not lost network traffic. Reviewed data: each entry says why.
 * On a kernel without drop reasons (before 5.17) every drop is NOT_SPECIFIED, so
 * nothing is hidden there.
 */
export const BENIGN_REASONS: Readonly<Record<string, string>> = {
  NOT_SPECIFIED: 'freed with plain kfree_skb() and no reason: most such paths are not lost packets',
  UNIX_DISCONNECT: 'a unix socket peer disconnected: not network traffic',
  UNIX_SKIP_OOB: 'out-of-band data skipped on a unix socket: not network traffic',
  IPV6_NDISC_NS_OTHERHOST: 'a neighbour solicitation for another host on the same link: normal on a shared segment',
};

/** Whether a row with this reason is hidden. `reasonsKnown`: the kernel gives drop reasons. */
export function isHidden(reason: string, all: boolean, reasonsKnown: boolean): boolean {
  return !all && reasonsKnown && Object.hasOwn(BENIGN_REASONS, reason);
}
