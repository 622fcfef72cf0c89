// Build config. `base: './'` keeps asset URLs relative: the daemon serves dist/ at
// http://127.0.0.1:PORT/ with assets under /assets/, to the browser and the desktop window alike.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// `npm run dev` proxies /api to a running daemon (NIGHTSHIFT_URL, default port 8091). The daemon
// checks Host and Origin, so the proxy presents itself as the daemon's own origin.
const target = process.env.NIGHTSHIFT_URL ?? 'http://127.0.0.1:8091';

export default defineConfig({
  base: './',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The CSP has no 'unsafe-inline': keep every script and style in its own file.
    assetsInlineLimit: 0,
    cssCodeSplit: false,
  },
  server: {
    proxy: {
      '/api': {
        target,
        changeOrigin: true,
        configure: (proxy) => {
          proxy.on('proxyReq', (req) => {
            if (req.getHeader('origin')) req.setHeader('origin', target);
          });
        },
      },
    },
  },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
  },
});
