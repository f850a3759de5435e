#!/usr/bin/env -S node --max-semi-space-size=2
// The haven command's entry. It is JavaScript on purpose: it turns on Node's
// compile cache before any TypeScript is loaded, so a start after the first
// takes the stripped and compiled modules from the cache and never loads the
// type stripper (a WebAssembly module of ~20 MB resident for the process's
// life). The cache lives inside the installation (node_modules/.cache), not
// in a shared temp directory another local user could write into. The small
// young generation keeps an idle Haven lighter too (docs/decisions/0004-memory.md).
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

enableCompileCache(fileURLToPath(new URL('../node_modules/.cache/haven-compile', import.meta.url)));
await import('../src/cli/main.ts');
