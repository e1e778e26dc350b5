import { buildProgram } from './program.js';
import { renderFlagsDoc } from './output/render/flags.js';

/** The text of docs/flags.md (scripts/docs.js writes it; a test checks it). */
export function flagsDoc(): string {
  return renderFlagsDoc(buildProgram());
}
