import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test/helpers/paths.js (tests run compiled). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const mainJs = path.join(repoRoot, 'dist', 'src', 'main.js');
