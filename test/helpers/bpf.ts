/**
 * BPF objects the kernel holds, as bpftool lists them: for tests that check pktpath
 * leaves nothing attached.
 */
import { spawnSync } from 'node:child_process';

/**
 * Ids of the BPF netfilter links (BPF_LINK_TYPE_NETFILTER = 10; bpftool 7.1 predates
 * the name and prints the number). Null when bpftool cannot list links here.
 */
export function netfilterLinks(): string[] | null {
  const r = spawnSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return null;
  return (JSON.parse(r.stdout || '[]') as { id: number; type: string | number }[])
    .filter((l) => l.type === 'netfilter' || l.type === 10)
    .map((l) => String(l.id))
    .sort();
}
