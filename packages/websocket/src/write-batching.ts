/**
 * One write per socket per turn of the event loop, however many messages.
 *
 * A subscription socket between the router and a subgraph multiplexes many
 * subscriptions (one caller's, see the router's upstream pools). When one
 * change reaches 200 of them, graphql-ws sends 200 `next` messages on that
 * socket within one turn (each from its own promise chain), and `ws` writes
 * each frame at once: 200 `writev` system calls on the sender and as many
 * reads on the receiver. Corking the TCP socket at the turn's first send and
 * uncorking it in `setImmediate` (after the turn's promise callbacks and
 * ticks have run) hands the kernel all of them in one `writev`.
 *
 * Edge cases:
 * - Order is kept: corking only delays the bytes, frames stay in order.
 * - A send's callback (graphql-ws waits on it) fires once the batch is
 *   written, at most one turn later.
 * - Before the socket is open there is no TCP socket yet: `ws` queues or
 *   refuses such a send itself, and nothing is corked.
 * - A socket destroyed while corked drops its buffer as it would anyway.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';

/** The TCP socket under a `ws` WebSocket (`_socket`, set once it is open; not part of ws's typed API). */
function tcpOf(socket: WebSocket): Socket | undefined {
  return (socket as unknown as { _socket?: Socket | null })._socket ?? undefined;
}

/**
 * Makes `socket.send` batch: the first send of a turn corks the TCP socket,
 * which is uncorked once the turn is over. For sockets that carry many
 * messages at once (the router's and the subgraphs' subscription sockets).
 */
export function batchWritesPerTurn(socket: WebSocket): void {
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  let corked: Socket | undefined;
  socket.send = ((...args: unknown[]) => {
    const tcp = tcpOf(socket);
    if (!corked && tcp && socket.readyState === WebSocket.OPEN) {
      corked = tcp;
      tcp.cork();
      setImmediate(() => {
        corked = undefined;
        tcp.uncork();
      });
    }
    send(...args);
  }) as WebSocket['send'];
}

/**
 * A `ws` client WebSocket whose sends batch per turn (see
 * {@link batchWritesPerTurn}): for graphql-ws's `webSocketImpl`, which
 * constructs the socket itself.
 */
export class BatchingWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    batchWritesPerTurn(this);
  }
}
