/**
 * The PWA's build. Run from the repository root:
 *   dev:     npx vite --config web/vite.config.ts --host 127.0.0.1 --port 5173 --strictPort
 *   build:   npx vite build --config web/vite.config.ts            (→ web/dist, with sw.js and manifest.webmanifest)
 *   preview: npx vite preview --config web/vite.config.ts --host 127.0.0.1 --port 4173 --strictPort
 * Reads VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY from the environment (or web/.env; see web/.env.example).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, loadEnv, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

const root = fileURLToPath(new URL('.', import.meta.url));

export const THEME_COLOR = '#0f4c81';
export const BACKGROUND_COLOR = '#ffffff';

/**
 * `<link rel="preconnect">` to the Supabase origin, so the connection (TCP + TLS) to the API is open by the time the
 * app's first call goes out instead of costing round trips after the script ran. Only when the URL is configured.
 */
function preconnectSupabase(mode: string): Plugin {
  return {
    name: 'servicepro-preconnect',
    transformIndexHtml() {
      const url = process.env.VITE_SUPABASE_URL ?? loadEnv(mode, root, 'VITE_').VITE_SUPABASE_URL;
      let origin: string;
      try {
        origin = new URL(url ?? '').origin;
      } catch {
        return [];
      }
      return [{ tag: 'link', attrs: { rel: 'preconnect', href: origin, crossorigin: '' }, injectTo: 'head-prepend' }];
    },
  };
}

export default defineConfig(({ mode }) => ({
  root,
  envDir: root,
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  plugins: [
    react(),
    preconnectSupabase(mode),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.ts',
      registerType: 'prompt',
      // We register once ourselves with workbox-window (src/app/pwa.ts), so the plugin injects no script.
      injectRegister: false,
      injectManifest: {
        // The app shell: the built JS/CSS/HTML and the icons index.html links. The plugin adds the manifest and the
        // manifest's icons itself.
        globPatterns: ['**/*.{js,css,html}', 'icons/favicon-32.png', 'icons/apple-touch-icon-180.png'],
        // One classic script: registrable everywhere without module-worker support.
        rollupFormat: 'iife',
        // Chart.js and other lazy chunks are precached too, so they work offline once installed.
        maximumFileSizeToCacheInBytes: 3 * 1024 * 1024,
      },
      devOptions: { enabled: false },
      manifest: {
        id: '/',
        name: 'ServicePro',
        short_name: 'ServicePro',
        description: 'The operating system for small service shops: repair orders, customer texts and billing.',
        lang: 'en',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        theme_color: THEME_COLOR,
        background_color: BACKGROUND_COLOR,
        categories: ['business', 'productivity'],
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
        shortcuts: [
          {
            name: 'Snap a repair order',
            short_name: 'Snap',
            description: 'Photograph a repair order and text the customer',
            url: '/capture',
            icons: [{ src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' }],
          },
        ],
      },
    }),
  ],
}));
