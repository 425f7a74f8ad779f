/** Entry point: `tsx subgraphs/items/src/main.ts` (or the bundled dist/main.js). */
import { loadConfig } from '@rental/config';
import { createLogger } from '@rental/observability';
import { onShutdownSignals } from '@rental/subgraph-server';
import { itemsConfigShape } from './config.js';
import { startItems } from './app.js';

const config = loadConfig(itemsConfigShape);
const logger = createLogger('items', config.LOG_LEVEL);
try {
  const running = await startItems(config, { logger });
  onShutdownSignals(running.stop, (msg) => logger.info(msg), config.SHUTDOWN_DELAY_MS + 20_000);
} catch (err) {
  logger.fatal({ err }, 'items subgraph failed to start');
  process.exit(1);
}
