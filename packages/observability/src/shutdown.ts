/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits: 0 when it finished, 1
 * when it threw or took longer than `graceMs`. Every process (router,
 * subgraphs, workers) uses it, so each drains the same way. Repeated signals
 * are ignored (tsx relays a signal to its child a second time; the grace
 * timer bounds the wait).
 */
export function onShutdownSignals(stop: () => Promise<void>, log: (msg: string) => void, graceMs: number): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received: readiness off, draining`);
    const timer = setTimeout(() => {
      log('drain took too long, exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
