/** Shared by the guest-side scenario runner and the host-side assertions. */
import type { TraceResult } from '../helpers/netns.js';

export const CLOSED_PORT = 9;
export const DROP_PORT = 8081;
/** 10.199.X.100: a virtual address the client DNATs to the server */
export const DNAT_VIP_HOST = 100;
export const DNAT_VIP_PORT = 80;
export const DNAT_REAL_PORT = 8080;
/** 10.199.X.3: a second address of the server's, the control flow of the filter run */
export const CONTROL_HOST = 3;

export interface RunRecord {
  args: string[];
  readyMs: number;
  result: TraceResult;
  notes: string[];
}

export interface GuestResults {
  backend: string;
  kernel: string;
  client: { ns: string; inode: number; v4: string };
  server: { ns: string; inode: number; v4: string };
  vip?: string;
  /** the control address of the filter run (CONTROL_HOST) */
  control?: string;
  runs: Record<string, RunRecord>;
}
