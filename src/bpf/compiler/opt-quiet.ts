// The last stage's passes between the redundant pass and the last merge
// (peephole, same-a, straight, fold-last, cover) mostly find nothing to do:
// each then costs a walk over the graph to find so. One walk asks each
// block what each of them would look at first; where no block has anything
// for any of them, none would change the graph, and the stage skips them
// together (optimize.ts). Every question is the one the pass itself asks
// before it does anything (so the answer is exact, never a guess), and
// none notes anything a pass would not have noted (fold.ts foldLeaves()).
import { beyondOn } from './beyond-libpcap.js';
import type { Block } from './block.js';
import { foldLeaves } from './fold.js';
import { deadIn, startDeadScan } from './opt-cover.js';
import { addsToX } from './opt-peep.js';
import { mayRedirect } from './opt-same-a.js';

/**
 * Would peephole, same-a, straight, fold-last and cover, in that order,
 * each leave the graph whose order is `blocks` as it is?
 */
export function tailQuiet(blocks: readonly Block[]): boolean {
  // Same-a and cover reason beyond libpcap's optimizer: off, they do nothing.
  const beyond = beyondOn();
  if (beyond) startDeadScan();
  for (const b of blocks) {
    // Straight: a decided block (skipEmpty() and mergeStraight() look for one).
    if (b.jt !== null && b.jt === b.jf) return false;
    if (addsToX(b.stmts) || !foldLeaves(b)) return false;
    if (beyond && (mayRedirect(b) || deadIn(b) !== 0)) return false;
  }
  return true;
}
