/** Entry point of the API process: `tsx subgraphs/stores/src/main.ts` (or the bundled dist/main.js). */
import { loadConfig } from '@rental/config';
import { createLogger } from '@rental/observability';
import { onShutdownSignals } from '@rental/subgraph-server';
import { storesConfigShape } from './config.js';
import { startStores } from './app.js';

const config = loadConfig(storesConfigShape);
const logger = createLogger('stores', config.LOG_LEVEL);
const running = await startStores(config, { logger });
onShutdownSignals(() => running.stop(), (msg) => logger.info(msg), config.SHUTDOWN_DELAY_MS + 20_000);
