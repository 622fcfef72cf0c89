// Svelte 5 in runes mode everywhere. Component styles are emitted into the bundle's CSS file
// (the plugin's default), never as <style> tags at run time: the CSP has no 'unsafe-inline'.
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default {
  preprocess: vitePreprocess(),
  compilerOptions: { runes: true },
};
