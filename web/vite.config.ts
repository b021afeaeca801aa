import { defineConfig } from "vite";

// The API serves dist/ at / (api/routes/web.py). `npm run dev` serves the page with hot reload and sends
// the API's paths to a `diplo serve` on http://127.0.0.1:8000.
const api = "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  build: { outDir: "dist", assetsDir: "assets", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
  server: { proxy: { "/v1": api, "/healthz": api } },
});
