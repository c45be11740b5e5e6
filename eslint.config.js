// ESLint flat config: typescript-eslint's strict, type-checked rules over all TypeScript.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import moat from './scripts/eslint-tool-boundary.js';

export default tseslint.config(
  { ignores: ['dist/', 'dist-*/', 'node_modules/', 'bench/results/', 'scripts/', 'eslint.config.js', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Bit-level code (BPF, ELF, pcap) compares and combines numbers freely.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      '@typescript-eslint/prefer-nullish-coalescing': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    // A tool imports only from itself and core (see scripts/eslint-tool-boundary.js).
    files: ['src/**/*.ts'],
    plugins: { moat },
    rules: { 'moat/tool-boundary': 'error' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
