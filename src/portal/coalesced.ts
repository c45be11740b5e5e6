// One run of a task for many callers at once, without leaving any of them
// behind: a caller gets the result of a run that started after its call (so
// the run sees every change made before the caller asked), and all callers
// that arrive while a run is under way share the one run after it. A burst of
// 200 logins thus costs two or three journal writes and two or three `nft -j
// list` runs, and each login waits for at most two of them, however long the
// burst lasts.
export class Coalesced<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;

  constructor(private readonly task: () => Promise<T>) {}

  run(): Promise<T> {
    if (this.queued !== undefined) return this.queued;
    const start = (): Promise<T> => {
      this.queued = undefined;
      const p = this.task();
      this.running = p;
      const clear = (): void => {
        if (this.running === p) this.running = undefined;
      };
      p.then(clear, clear);
      return p;
    };
    if (this.running === undefined) return start();
    this.queued = this.running.then(start, start);
    return this.queued;
  }
}
