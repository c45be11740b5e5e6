// Running classic BPF: interpreter, JIT to JavaScript, validator.
export { interpret, alu, MAX_STEPS } from './interpreter.js';
export { jit, jitBased, jitSource, type BasedFilter, type JitFilter } from './jit.js';
export { validate, assertValid, type ValidateOptions, type ValidationProblem, type ValidationRule } from './validator.js';
