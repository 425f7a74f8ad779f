/** Entry point of the worker process: `tsx subgraphs/rentals/src/worker-main.ts` (or the bundled dist/worker-main.js). */
import { ConfigError, loadConfig } from '@rental/config';
import { createLogger } from '@rental/observability';
import { onShutdownSignals } from '@rental/subgraph-server';
import { rentalsConfigShape } from './config.js';
import { startRentalsWorker } from './worker.js';

const config = loadConfig(rentalsConfigShape);
const logger = createLogger('rentals-worker', config.LOG_LEVEL);
try {
  const running = await startRentalsWorker(config, { logger });
  onShutdownSignals(() => running.stop(), (msg) => logger.info(msg), config.SHUTDOWN_DELAY_MS + 20_000);
} catch (err) {
  // A setting refused at start-up (the sandbox provider in production): its message, as loadConfig prints one.
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  logger.fatal({ err }, 'rentals worker failed to start');
  process.exit(1);
}
