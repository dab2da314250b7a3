// Copies the non-TypeScript files the service reads at run time (Lua scripts) next to the compiled code.
import { cpSync } from 'node:fs';

cpSync('src/store/scripts', 'dist/store/scripts', { recursive: true });
