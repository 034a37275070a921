/**
 * BPF objects the kernel holds, as bpftool lists them: for tests that check pktpath
 * leaves nothing attached.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

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

/**
 * Ids of the BPF links this process holds, read from its fds (/proc/self/fdinfo has a
 * link_id line for a BPF link). Exact even while other processes make links of their own.
 */
export function ownLinkIds(): number[] {
  const ids: number[] = [];
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile (the readdir's own fd)
    }
    const m = /^link_id:\s*(\d+)$/m.exec(info);
    if (m) ids.push(Number(m[1]));
  }
  return ids.sort((a, b) => a - b);
}

/** Ids of every BPF link the kernel has, as bpftool lists them; null when bpftool cannot list links here. */
export function kernelLinkIds(): Set<number> | null {
  const r = spawnSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return null;
  return new Set((JSON.parse(r.stdout || '[]') as { id: number }[]).map((l) => l.id));
}
