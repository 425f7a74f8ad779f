/** The reservations worker process: consumes `reservations-events` until SIGTERM. */
import { loadConfig } from '@rental/config';
import { createLogger } from '@rental/observability';
import { onShutdownSignals } from '@rental/subgraph-server';
import { reservationsConfigShape } from './config.js';
import { startReservationsWorker } from './worker.js';

const config = loadConfig(reservationsConfigShape);
const logger = createLogger('reservations-worker', config.LOG_LEVEL);
const worker = await startReservationsWorker(config, { logger });
onShutdownSignals(() => worker.stop(), (msg) => logger.info(msg), config.SHUTDOWN_DELAY_MS + 20_000);
