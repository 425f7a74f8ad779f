/** Entry point of the worker process: `tsx subgraphs/stores/src/worker-main.ts` (or the bundled dist/worker-main.js). */
import { loadConfig } from '@rental/config';
import { createLogger } from '@rental/observability';
import { onShutdownSignals } from '@rental/subgraph-server';
import { storesConfigShape } from './config.js';
import { startStoresWorker } from './worker.js';

const config = loadConfig(storesConfigShape);
const logger = createLogger('stores-worker', config.LOG_LEVEL);
const running = await startStoresWorker(config, { logger });
onShutdownSignals(() => running.stop(), (msg) => logger.info(msg), config.SHUTDOWN_DELAY_MS + 20_000);
