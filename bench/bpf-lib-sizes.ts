// Child process of `npm run bench -- bpf`: prints the program-size
// distributions (ours -O against libpcap -O) and exits. Sizes are a property
// of the compilers, not a timing, but measuring them compiles ~3,700
// expressions over every link type, which in the timing process would leave
// V8's feedback and heap shaped by them: the compile-time figure after it
// came out ~5% higher than in a clean process. A process of its own keeps the
// timed compiles in the conditions of the figure issue 14 was filed with
// (c1ad495 measured no sizes), and keeps "first pass in a fresh process" true.
import { randomExpressions } from '../test/bpf/oracle/random-expressions.js';
import { acceptSizeItems, measureSizes, sizeLine } from '../test/bpf/oracle/sizes.js';

const random = measureSizes(randomExpressions(14, 2400));
const accept = measureSizes(acceptSizeItems());
process.stdout.write(sizeLine('2,400 random expressions over every supported link type (seed 14)', random.summary));
process.stdout.write(sizeLine("libpcap's accept table", accept.summary));
