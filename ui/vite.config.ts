// Build config. `base: './'` keeps asset URLs relative: the daemon serves dist/ at
// http://127.0.0.1:PORT/ with assets under /assets/, to the browser and the desktop window alike.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// `npm run dev` proxies /api to a running daemon (NIGHTSHIFT_URL, default port 8091). The daemon
// checks Host and Origin, so the proxy presents itself as the daemon's own origin.
const target = process.env.NIGHTSHIFT_URL ?? 'http://127.0.0.1:8091';

/** Vite marks its module script and stylesheet `crossorigin`. They come from the page's own
 *  origin, so the attribute buys nothing, and WebKit (the desktop window) fetches such a
 *  script as a CORS request with `Origin: null` under the page's `Referrer-Policy: no-referrer`,
 *  then refuses to run it for want of CORS headers. */
const sameOriginAssets: Plugin = {
  name: 'same-origin-assets',
  transformIndexHtml: (html) => html.replace(/ crossorigin(="[^"]*")?/g, ''),
};

export default defineConfig({
  base: './',
  plugins: [svelte(), sameOriginAssets],
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
