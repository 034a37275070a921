/** Errno names of this system: the C library's (Node's os.constants.errno) and the kernel's own. */
import { constants } from 'node:os';
import { errnoTable } from '../errno.js';

let table: Map<number, string> | undefined;

/** number -> name ("EPERM"), read once. */
export function errnoNames(): Map<number, string> {
  table ??= errnoTable(constants.errno as Readonly<Record<string, number>>);
  return table;
}
