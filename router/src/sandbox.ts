/**
 * Apollo Sandbox with subscriptions pointed at this router.
 *
 * Apollo Server's local landing page plugin has no option for the
 * subscription endpoint (it only passes document/variables/headers,
 * `includeCookies` and `embed: { initialState: { pollForSchemaUpdates,
 * sharedHeaders }, endpointIsEditable, runTelemetry }`), while the embedded
 * Sandbox itself accepts `initialSubscriptionEndpoint`. This wrapper adds
 * `initialSubscriptionEndpoint` = the page's own URL with a ws(s) scheme to
 * the Sandbox config, inside the page's existing (nonce-allowed) script, so
 * Sandbox opens subscriptions with `graphql-transport-ws` on the same
 * `/graphql` path. Should the page's shape ever change, it is served
 * unchanged (Sandbox then derives the same URL by default).
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';

const ANCHOR = 'new window.EmbeddedSandbox(';
const SET_SUBSCRIPTION_ENDPOINT =
  "embeddedSandboxConfig.initialSubscriptionEndpoint = window.location.href.replace(/^http/, 'ws').split('?')[0].split('#')[0];\n  ";

/** Adds the subscription endpoint to an embedded Sandbox page's HTML. */
export function withSubscriptionEndpoint(html: string): string {
  return html.includes(ANCHOR) ? html.replace(ANCHOR, SET_SUBSCRIPTION_ENDPOINT + ANCHOR) : html;
}

/** Wraps a landing page plugin so its Sandbox subscribes over this router's WebSocket. */
export function sandboxWithSubscriptions<T extends BaseContext>(plugin: ApolloServerPlugin<T>): ApolloServerPlugin<T> {
  return {
    ...plugin,
    async serverWillStart(service) {
      const listener = await plugin.serverWillStart?.(service);
      if (!listener?.renderLandingPage) return listener;
      const render = listener.renderLandingPage.bind(listener);
      return {
        ...listener,
        async renderLandingPage() {
          const page = await render();
          const html = page.html;
          return {
            html: typeof html === 'string' ? withSubscriptionEndpoint(html) : async () => withSubscriptionEndpoint(await html()),
          };
        },
      };
    },
  };
}
