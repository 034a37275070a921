/** Resolves after ms, or as soon as `stop` fires; true when stopped. Interval loops (drops, stats) wait with it. */
export function pause(ms: number, stop: AbortSignal): Promise<boolean> {
  if (stop.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (stopped: boolean): void => {
      clearTimeout(timer);
      stop.removeEventListener('abort', onAbort);
      resolve(stopped);
    };
    const onAbort = (): void => done(true);
    const timer = setTimeout(() => done(false), ms);
    stop.addEventListener('abort', onAbort);
  });
}
