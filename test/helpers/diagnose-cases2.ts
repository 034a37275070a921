/** More diagnosis cases: paths and MTU, addresses, checksums, qdiscs, tc, XDP, TCP queues, benign ones. */
import type { Case } from './diagnose-cases.js';

export const MORE_CASES: readonly Case[] = [];
