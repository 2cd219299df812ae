import { defineConfig } from 'vite';

// The build is committed (web/dist) and embedded in the Go binary, and CI
// rebuilds it and fails on any difference: keep it deterministic (no
// timestamps, no absolute paths, content-hashed file names).
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact', legalComments: 'none' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    // Every browser the app supports knows <link rel="modulepreload">.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
    // Small assets are files too: data: URLs would need a looser CSP.
    assetsInlineLimit: 0,
    rollupOptions: {
      // The QR encoder is loaded only by the MFA setup: name its chunk.
      output: { manualChunks: { qr: ['uqr'] } },
    },
  },
  server: {
    // `npm run dev` talks to a plaza serve on :8080.
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', ws: true },
      '/uploads': 'http://127.0.0.1:8080',
    },
  },
});
