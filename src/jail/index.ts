// moat jail: render seed 001's OS-less jail deployment, for FreeBSD and for
// Linux, from one small spec. The public face: the library API and the CLI.
import { subcommandMain } from '../core/index.js';
import { CHECK_USAGE, checkMain, RENDER_USAGE, renderMain } from './render-command.js';

export { planDeployment, hostPath, type DeploymentPlan, type Variant } from './deployment-plan.js';
export { renderDeployment, TARGET_OSES, type RenderedFile, type TargetOs } from './render-deployment.js';
export { renderSpecFile } from './render-command.js';
export { jailSpecSchema, type JailSpec } from './spec-schema.js';
export { shQuote, shWords } from './sh-quote.js';
export { systemdQuote, systemdCommandLine } from './systemd-quote.js';

const USAGE = `${RENDER_USAGE.replace(/\n$/, '')}\n${CHECK_USAGE.replace('usage:', '      ')}`;

export const main = subcommandMain('jail', USAGE, { render: renderMain, check: checkMain });
