// Which `seq`s of a durable topic were applied, so that nothing is applied twice.

/** The `seq`s applied for one topic: everything up to `seq`, plus those in `above`. */
export class SeqTracker {
  constructor(seq = 0) {
    this.seq = seq;
    this.above = new Set();
  }

  /** True the first time `seq` is seen (then it counts as applied); false for a duplicate. */
  accept(seq) {
    if (seq <= this.seq || this.above.has(seq)) return false;
    if (seq === this.seq + 1) {
      this.seq = seq;
      while (this.above.delete(this.seq + 1)) this.seq += 1;
    } else {
      this.above.add(seq);
    }
    return true;
  }

  get hasGap() {
    return this.above.size > 0;
  }

  reset(seq) {
    this.seq = seq;
    this.above.clear();
  }
}
