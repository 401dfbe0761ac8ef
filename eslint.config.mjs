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
    files: ['js/loader.js', 'collector/src/dashboard/dashboard.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
  {
    // Appended to wasm-bindgen's glue by `cargo xtask dist`, where the nps_* exports and
    // `wasm` are defined.
    files: ['js/api.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        ...globals.browser,
        nps_start: 'readonly',
        nps_show: 'readonly',
        nps_hide: 'readonly',
        nps_destroy: 'readonly',
        nps_identify: 'readonly',
        wasm: 'readonly',
      },
    },
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
