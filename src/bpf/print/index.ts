// Printers for compiled programs.
export { bpfImage, dumpProgram, mnemonic } from './image.js';
export { explainProgram } from './explain.js';
export { programJson, type ProgramJson } from './json.js';
export { programDot } from './dot.js';
