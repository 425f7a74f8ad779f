/** The reservations API process: the subgraph, the outbox relay and the saga sweeper. */
import { loadConfig } from '@rental/config';
import { createLogger } from '@rental/observability';
import { onShutdownSignals } from '@rental/subgraph-server';
import { startReservations } from './app.js';
import { reservationsConfigShape } from './config.js';

const config = loadConfig(reservationsConfigShape);
const logger = createLogger('reservations', config.LOG_LEVEL);
const running = await startReservations(config, { logger });
onShutdownSignals(() => running.stop(), (msg) => logger.info(msg), config.SHUTDOWN_DELAY_MS + 20_000);
