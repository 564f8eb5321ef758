// Flat config. Type-aware rules are left out on purpose: they triple lint time on a 2-core machine,
// and `tsc --noEmit` already runs in `npm test`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';

const nodeBuiltins = ['fs', 'path', 'os', 'child_process', 'worker_threads', 'net', 'http', 'crypto', 'stream', 'url'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'dist-electron/', 'release/', 'runs/', 'test-results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
    },
  },
  {
    // Nothing under main/engine imports electron: the engine runs under plain Node (CLI, serve, trainer).
    files: ['main/engine/**/*.ts', 'main/trainer/**/*.ts', 'main/cli/**/*.ts', 'main/server/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The engine never imports electron, so it runs under plain Node; put it under main/electron.' }],
        patterns: [{ group: ['electron/*'], message: 'The engine never imports electron, so it runs under plain Node.' }],
      }],
    },
  },
  {
    // shared/ is used by both sides: no Node or DOM imports.
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['electron', ...nodeBuiltins, ...nodeBuiltins.map((m) => `node:${m}`)],
        patterns: [{ group: ['node:*'], message: 'shared/ must run in Node and the browser alike.' }],
      }],
    },
  },
  {
    // The renderer talks to the host only through WorkbenchApi.
    files: ['renderer/**/*.ts', 'renderer/**/*.vue'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['electron', ...nodeBuiltins],
        patterns: [{ group: ['node:*', '**/main/**'], message: 'The renderer reaches the host only through WorkbenchApi.' }],
      }],
    },
  },
);
