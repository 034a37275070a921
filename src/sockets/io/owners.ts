/**
 * Which processes hold which sockets: every /proc/PID/fd/N that links to socket:[INODE]
 * (what `ss -p` and `lsof` read). Socket inodes are unique on the host, whatever the
 * namespace, so one scan serves every namespace. Without root only our own processes
 * can be read; the others are skipped, as ss does.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { socketInode } from '../socket.js';
import type { SocketOwner } from '../socket.js';

function commOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd();
  } catch {
    return '?';
  }
}

function fdsOf(pid: string): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`);
  } catch {
    return []; // gone, or someone else's
  }
}

/** socket inode -> the processes holding it (pid, comm, fd), for every readable process. */
export function socketOwners(): Map<number, SocketOwner[]> {
  const out = new Map<number, SocketOwner[]>();
  for (const pid of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    let comm: string | undefined;
    for (const fd of fdsOf(pid)) {
      let inode: number | null = null;
      try {
        inode = socketInode(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        continue; // closed meanwhile
      }
      if (inode === null) continue;
      comm ??= commOf(pid);
      const list = out.get(inode) ?? [];
      list.push({ pid: Number(pid), comm, fd: Number(fd) });
      out.set(inode, list);
    }
  }
  return out;
}
