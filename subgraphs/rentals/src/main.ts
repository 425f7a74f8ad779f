/** Entry point of the API process: `tsx subgraphs/rentals/src/main.ts` (or the bundled dist/main.js). */
import { ConfigError, loadConfig } from '@rental/config';
import { createLogger } from '@rental/observability';
import { onShutdownSignals } from '@rental/subgraph-server';
import { rentalsConfigShape } from './config.js';
import { startRentals } from './app.js';

const config = loadConfig(rentalsConfigShape);
const logger = createLogger('rentals', config.LOG_LEVEL);
try {
  const running = await startRentals(config, { logger });
  onShutdownSignals(running.stop, (msg) => logger.info(msg), config.SHUTDOWN_DELAY_MS + 20_000);
} catch (err) {
  // A setting refused at start-up (the sandbox provider in production): its message, as loadConfig prints one.
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  logger.fatal({ err }, 'rentals subgraph failed to start');
  process.exit(1);
}
