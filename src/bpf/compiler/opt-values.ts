// Value numbers for the optimizer (opt-redundant.ts): every value a
// register or scratch word can hold is named by a number, equal numbers for
// equal computations: the same operation on the same operand numbers gets
// the same number (hash-consing, as in libpcap's optimizer, optimize.c F()).
// A packet load's number stands for "this load, done": the packet never
// changes, so two loads with one number give one value, and the second
// cannot fail where the first succeeded. Values nothing is known of (a
// register on entry to the program, or where paths with different values
// meet) get fresh numbers that equal nothing else.
//
// Each number also carries an upper bound of its value (for the peephole,
// opt-peep.ts: an index plus a constant must not wrap round 2^32).
//
// The table is typed arrays with open addressing (no boxed key, no object
// per value), started afresh for each optimizer run (vnReset()).

/** The operation of a constant (no BPF opcode is negative). */
const CONST = -1;
const INITIAL = 1 << 10;

let size = INITIAL;
// Per slot: operation, operands, and the number (0: slot empty; no value is numbered 0).
let opOf = new Int32Array(size);
let v0Of = new Int32Array(size);
let v1Of = new Int32Array(size);
let numOf = new Int32Array(size);
/** Per number: its upper bound (unsigned), and for constants the constant. */
let maxOf = new Float64Array(size);
let constOf = new Float64Array(size);
let isConst = new Uint8Array(size);
/** Per number: its operation and operands (what a value is made of, for tree walks). */
let opN = new Int32Array(size);
let v0N = new Int32Array(size);
let v1N = new Int32Array(size);
/** Per slot: the run it was filled in (a slot of an earlier run is empty): no clearing per run. */
let runOf = new Int32Array(size);
let run = 1;
let count = 1;

const slotOf = (op: number, v0: number, v1: number): number =>
  (Math.imul(op, 0x85ebca6b) ^ Math.imul(v0, 0x9e3779b1) ^ Math.imul(v1, 0xc2b2ae35)) & (size - 1);

/** Start afresh: numbers from an earlier run mean nothing now. */
export function vnReset(): void {
  if (run === 0x7fffffff) {
    runOf.fill(0);
    run = 0;
  }
  run++;
  count = 1;
}

function grow(): void {
  const [o, a, b, n, ro] = [opOf, v0Of, v1Of, numOf, runOf];
  const [mx, cv, ic, on, an, bn] = [maxOf, constOf, isConst, opN, v0N, v1N];
  size *= 2;
  opOf = new Int32Array(size);
  v0Of = new Int32Array(size);
  v1Of = new Int32Array(size);
  numOf = new Int32Array(size);
  runOf = new Int32Array(size);
  maxOf = new Float64Array(size);
  constOf = new Float64Array(size);
  isConst = new Uint8Array(size);
  opN = new Int32Array(size);
  v0N = new Int32Array(size);
  v1N = new Int32Array(size);
  maxOf.set(mx);
  constOf.set(cv);
  isConst.set(ic);
  opN.set(on);
  v0N.set(an);
  v1N.set(bn);
  for (let i = 0; i < n.length; i++) {
    const num = n[i] ?? 0;
    if (num === 0 || ro[i] !== run) continue;
    const op = o[i] ?? 0;
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    let at = slotOf(op, x, y);
    while (runOf[at] === run) at = (at + 1) & (size - 1);
    opOf[at] = op;
    v0Of[at] = x;
    v1Of[at] = y;
    numOf[at] = num;
    runOf[at] = run;
  }
}

/**
 * The number of operation `op` (a BPF opcode, or one of this module's) on
 * operands v0 and v1 (numbers, or an instruction's k), made with upper
 * bound `max` if it is new.
 */
export function value(op: number, v0: number, v1: number, max: number): number {
  let at = slotOf(op, v0, v1);
  for (;;) {
    if (runOf[at] !== run) break;
    if (opOf[at] === op && v0Of[at] === v0 && v1Of[at] === v1) return numOf[at] ?? 0;
    at = (at + 1) & (size - 1);
  }
  const n = count++;
  opOf[at] = op;
  v0Of[at] = v0;
  v1Of[at] = v1;
  numOf[at] = n;
  runOf[at] = run;
  maxOf[n] = max;
  isConst[n] = 0;
  opN[n] = op;
  v0N[n] = v0;
  v1N[n] = v1;
  if (2 * count > size) grow();
  return n;
}

/** This run's number (vnReset() starts a new one): numbers memoized in an earlier run are stale. */
export function vnRun(): number {
  return run;
}

/** The number of the constant c (unsigned). */
export function konst(c: number): number {
  const u = c >>> 0;
  const n = value(CONST, u | 0, 0, u);
  isConst[n] = 1;
  constOf[n] = u;
  return n;
}

/** A number equal to no other. */
export function fresh(): number {
  // In no slot: nothing looks it up.
  const n = count++;
  maxOf[n] = 0xffffffff;
  isConst[n] = 0;
  opN[n] = -2;
  if (2 * count > size) grow();
  return n;
}

/** The upper bound of value n (unsigned). */
export function upper(n: number): number {
  return maxOf[n] ?? 0xffffffff;
}

/** Value n's operation (a BPF opcode; negative for a constant or a fresh number) and its operands' numbers. */
export function opOfValue(n: number): number {
  return opN[n] ?? -2;
}

export function operandOf(n: number, which: 0 | 1): number {
  return (which === 0 ? v0N[n] : v1N[n]) ?? 0;
}

/** The constant value n is, or null. */
export function constantOf(n: number): number | null {
  return isConst[n] === 1 ? (constOf[n] ?? 0) : null;
}

/**
 * Is value `target` value `root` or one it is made of (through ALU operands
 * and indexed loads' index)? A packet load among them was made wherever
 * `root` was computed.
 */
export function madeOf(root: number, target: number, depth = 0): boolean {
  if (root === target) return true;
  if (depth > 64 || root <= 0) return false;
  const op = opN[root] ?? -2;
  if (op < 0) return false;
  const cls = op & 0x07;
  // ALU (4): both operands (NEG, 0x84, has one); an indexed load (class 0, mode 0x40): its index.
  if (cls === 0x04) return madeOf(v0N[root] ?? 0, target, depth + 1) || (op !== 0x84 && madeOf(v1N[root] ?? 0, target, depth + 1));
  if (cls === 0x00 && (op & 0xe0) === 0x40) return madeOf(v1N[root] ?? 0, target, depth + 1);
  return false;
}
