/** Runs the stores worker process: `tsx subgraphs/stores/src/worker-main.ts`. */
import { createLogger } from '@rental/observability';
import { onShutdownSignals } from '@rental/subgraph-server';
import { loadStoresConfig } from './config.js';
import { startStoresWorker } from './worker.js';

const config = loadStoresConfig();
const logger = createLogger('stores-worker', config.LOG_LEVEL);
const running = await startStoresWorker(config, { logger });
onShutdownSignals(running.stop, (msg) => logger.info(msg), config.SHUTDOWN_DELAY_MS + 20_000);
