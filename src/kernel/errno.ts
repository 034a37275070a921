/**
 * Errno names (pure). The user-space ones come from the C library's table (Node's
 * os.constants.errno, read by the caller); the kernel also returns numbers user space never
 * sees (include/linux/errno.h), listed here. Where two names share a number, the usual
 * one wins.
 */

/** Kernel-internal errnos (include/linux/errno.h): never returned to user space. */
export const KERNEL_ERRNOS: Readonly<Record<string, number>> = {
  ERESTARTSYS: 512,
  ERESTARTNOINTR: 513,
  ERESTARTNOHAND: 514,
  ENOIOCTLCMD: 515,
  ERESTART_RESTARTBLOCK: 516,
  EPROBE_DEFER: 517,
  EOPENSTALE: 518,
  ENOPARAM: 519,
  EBADHANDLE: 521,
  ENOTSYNC: 522,
  EBADCOOKIE: 523,
  ENOTSUPP: 524,
  ETOOSMALL: 525,
  ESERVERFAULT: 526,
  EBADTYPE: 527,
  EJUKEBOX: 528,
  EIOCBQUEUED: 529,
  ERECALLCONFLICT: 530,
  ENOGRACE: 531,
};

/** Aliases that lose to the usual name of their number. */
const ALIASES = new Set(['EWOULDBLOCK', 'EDEADLOCK', 'ENOTSUP']);

/** number -> name, from a name -> number table (user space's) and the kernel's own. */
export function errnoTable(userspace: Readonly<Record<string, number>>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [name, n] of Object.entries({ ...userspace, ...KERNEL_ERRNOS })) {
    if (!out.has(n) || ALIASES.has(out.get(n)!)) out.set(n, name);
  }
  return out;
}
