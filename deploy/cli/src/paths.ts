// The repository checkout the CLI runs from (deploy/cli/{src,dist}/paths.* → the root): the
// controls and policy commands work on its files.
import { fileURLToPath } from 'node:url';

export const repositoryRoot = (): string => fileURLToPath(new URL('../../../', import.meta.url));
