import { fileURLToPath } from 'node:url';
import { defineConfig, loadEnv } from 'vite';
import react from '@vitejs/plugin-react';
import { localSignIn } from './local-token.ts';

/**
 * Development: `npm run dev -w web` serves the app and proxies `/graphql`
 * (HTTP and the graphql-ws WebSocket) to the router at ROUTER_URL.
 * Production: `vite build` writes static files to web/dist.
 */
export default defineConfig(({ mode }) => {
  const env = { ...loadEnv(mode, process.cwd(), ''), ...process.env };
  const router = env.ROUTER_URL ?? 'http://localhost:4000';
  return {
    root: fileURLToPath(new URL('.', import.meta.url)),
    plugins: [react(), localSignIn(env)],
    server: {
      port: Number(env.WEB_PORT ?? 5173),
      strictPort: false,
      proxy: {
        '/graphql': { target: router, changeOrigin: true, ws: true },
      },
    },
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      sourcemap: true,
    },
  };
});
