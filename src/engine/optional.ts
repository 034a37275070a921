/**
 * Optional program groups: parts of a load the run can do without (the netfilter
 * observers, function return values, the netfilter evaluation functions). A load is tried
 * with every wanted group; when it fails and a load without them works, the groups were
 * the cause: each is tried back on its own, and the ones that still fail stay off with
 * the reason.
 */

export interface OptionalGroup {
  /** for messages: "netfilter observers" */
  readonly name: string;
  /** wanted and not (yet) known to fail */
  on: boolean;
  /** why it is off after a failure */
  problem?: string;
  /** the kind of programs in it ('fexit'), for the caller's `refused` */
  readonly mechanism?: string;
  /** the sentence for the user when the group does not load, from the load's error */
  readonly why: (err: unknown) => string;
}

/**
 * Loads with the groups that are on. `load` reads the groups' `on`; `discard` frees a load
 * that a later, better one replaces. Throws the load's error when the failure is not the
 * groups' (a load without any of them fails too); the groups are then left as they were.
 * `refused(group, err)`: the first failure already proves the group cannot load here (and
 * that the load fails without it too): it goes off with the reason, no second load is
 * tried, and the error is thrown.
 */
export function loadWithOptionalGroups<T>(
  groups: readonly OptionalGroup[],
  load: () => T,
  discard: (loaded: T) => void,
  refused: (group: OptionalGroup, err: unknown) => boolean = () => false,
): T {
  const on = groups.filter((g) => g.on);
  try {
    return load();
  } catch (err) {
    if (!on.length) throw err;
    const refusedBy = on.filter((g) => refused(g, err));
    if (refusedBy.length) {
      for (const g of refusedBy) off(g, err);
      throw err;
    }
    for (const g of on) g.on = false;
    let loaded: T;
    try {
      loaded = load();
    } catch (second) {
      for (const g of on) g.on = true; // not the groups' fault (a backend the kernel refuses, say)
      throw second;
    }
    if (on.length === 1) return off(on[0]!, err), loaded;
    return addBack(on, loaded, load, discard);
  }
}

/** Each group back on its own, keeping those that load; the best load is returned. */
function addBack<T>(groups: readonly OptionalGroup[], loaded: T, load: () => T, discard: (loaded: T) => void): T {
  let best = loaded;
  for (const g of groups) {
    g.on = true;
    try {
      const better = load();
      discard(best);
      best = better;
    } catch (err) {
      off(g, err);
    }
  }
  return best;
}

function off(g: OptionalGroup, err: unknown): void {
  g.on = false;
  g.problem = g.why(err);
}
