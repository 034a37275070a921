/** Every rule, most specific first (the order breaks ties of equal priority). */
import { DEVICE_RULES } from './device.js';
import { DROP_RULES } from './drops.js';
import { IP_RULES } from './ip.js';
import { NETFILTER_RULES } from './netfilter.js';
import { TCP_RULES } from './tcp.js';
import type { Rule } from './types.js';

export const RULES: readonly Rule[] = [...NETFILTER_RULES, ...IP_RULES, ...TCP_RULES, ...DEVICE_RULES, ...DROP_RULES];

export { REASONS } from './drops.js';
export type { Rule } from './types.js';
