/**
 * One execution of a subscription event for every subscription that would
 * compute the same result from it: the router opens one upstream
 * subscription per client subscription, so a caller with many screens on one
 * reservation has many identical subscriptions here, and each change reaches
 * all of them as the same event object (the process's feed parses a message
 * once and hands it to every listener).
 *
 * `subscribe` is graphql-js's own split: `createSourceEventStream`, then
 * `execute` with the event as root value, once per event, here shared when
 * - it is the same event object (the key lives as long as the event does:
 *   a WeakMap, so nothing outlives the delivery),
 * - the same document and variables (the same selection), and
 * - the same identity in the context (sub, role, storeId): authorization is
 *   decided per subscription when it starts and by that identity per field,
 *   so subscriptions of different callers never share a result.
 * Events that are not objects are executed for each subscription.
 *
 * `return()` on a subscription ends its source stream at once (graphql-ws
 * calls it when the client completes or the socket closes).
 */
import { createRequire } from 'node:module';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { SelectionKeys, type Identity } from '@rental/auth';

/** graphql-js as graphql-ws and @apollo/subgraph load it (its CommonJS build; see subscriptions.ts). */
const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');

type Result = ExecutionResult | Promise<ExecutionResult>;

/** The caller here: the context's identity, when it has one. */
function callerOf(contextValue: unknown): Identity | undefined {
  const identity = (contextValue as { identity?: Identity } | undefined)?.identity;
  return identity?.sub === undefined ? undefined : identity;
}

/** A `subscribe` for graphql-ws that shares each event's execution among identical subscriptions. */
export class SharedEventExecution {
  private readonly results = new WeakMap<object, Map<string, Result>>();
  private readonly keys = new SelectionKeys();

  /** graphql-js `subscribe`, with shared per-event execution. */
  readonly subscribe = async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await graphql.createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
    const events = source as AsyncIterableIterator<unknown>;
    const who = callerOf(args.contextValue);
    const shape = who === undefined ? undefined : this.keys.of(args.document, args.variableValues, who);
    const run = (event: unknown): Result => {
      const execute = () => graphql.execute({ ...args, rootValue: event });
      if (shape === undefined || typeof event !== 'object' || event === null) return execute();
      let byShape = this.results.get(event);
      if (!byShape) {
        byShape = new Map();
        this.results.set(event, byShape);
      }
      let result = byShape.get(shape);
      if (!result) {
        result = execute();
        byShape.set(shape, result);
      }
      return result;
    };
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        const step = await events.next();
        return step.done ? { done: true, value: undefined } : { done: false, value: await run(step.value) };
      },
      async return() {
        await events.return?.();
        return { done: true, value: undefined };
      },
      async throw(err?: unknown) {
        await events.return?.();
        throw err;
      },
      [Symbol.asyncIterator]() {
        return mapped;
      },
    };
    return mapped;
  };
}
