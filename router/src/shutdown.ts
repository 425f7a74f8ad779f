/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits: 0 when it finished, 1
 * when it threw or took longer than `graceMs`. A second signal exits at once.
 */
export function onShutdownSignals(stop: () => Promise<void>, log: (msg: string) => void, graceMs = 20_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`${signal} received again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    log(`${signal} received: readiness off, draining in-flight requests`);
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
