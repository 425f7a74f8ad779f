/** Runs the stores API process: `tsx subgraphs/stores/src/main.ts`. */
import { createLogger } from '@rental/observability';
import { onShutdownSignals } from '@rental/subgraph-server';
import { loadStoresConfig } from './config.js';
import { startStores } from './app.js';

const config = loadStoresConfig();
const logger = createLogger('stores', config.LOG_LEVEL);
const running = await startStores(config, { logger });
onShutdownSignals(running.stop, (msg) => logger.info(msg), config.SHUTDOWN_DELAY_MS + 20_000);
