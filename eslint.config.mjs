// ESLint (flat config) for the JavaScript that ships: the script-tag loader, the NpsWidget
// class, the browser snippet the wasm imports, the dashboard; and for the tests that drive them.
import js from '@eslint/js';
import globals from 'globals';

export default [
  {
    ignores: ['target/**', 'dist/**', 'node_modules/**', 'www/**'],
  },
  js.configs.recommended,
  {
    // The dashboard: ES modules the collector serves under /dashboard/ (app.js imports the rest).
    files: ['collector/src/dashboard/**/*.js'],
    languageOptions: { sourceType: 'module', ecmaVersion: 'latest', globals: { ...globals.browser } },
  },
  {
    // Bundled with wasm-bindgen's glue by `cargo xtask dist` (Rollup); the loader with gate.js
    // into one classic script.
    files: ['js/api.js', 'js/index.js', 'js/fallback.js', 'js/gate.js', 'js/loader.js', 'js/tag.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
  },
  {
    // The hosted survey page's script (a module: it imports the widget's package).
    files: ['collector/src/hosted/hosted.js'],
    languageOptions: { sourceType: 'module', ecmaVersion: 'latest', globals: { ...globals.browser } },
  },
  {
    files: ['src/dom/browser.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
  },
  {
    files: ['tests/**/*.mjs', 'tests/**/*.js', 'tests/**/*.jsx', 'eslint.config.mjs'],
    languageOptions: {
      sourceType: 'module',
      ecmaVersion: 'latest',
      parserOptions: { ecmaFeatures: { jsx: true } },
      globals: { ...globals.browser, ...globals.node },
    },
  },
];
