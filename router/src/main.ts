/** Entry point: load config, start the router, drain on SIGTERM/SIGINT. */
import { ConfigError } from '@rental/config';
import { createLogger, onShutdownSignals } from '@rental/observability';
import { startRouter } from './app.js';
import { loadRouterConfig } from './config.js';

const config = loadRouterConfig();
const logger = createLogger('router', config.LOG_LEVEL);
try {
  const router = await startRouter(config, { logger });
  if (config.NODE_ENV !== 'production') logger.info(`Apollo Sandbox: ${router.url}`);
  onShutdownSignals(() => router.stop(), (msg) => logger.info(msg), config.SHUTDOWN_DELAY_MS + config.DRAIN_TIMEOUT_MS + 5_000);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  logger.fatal({ err }, 'router failed to start');
  process.exit(1);
}
