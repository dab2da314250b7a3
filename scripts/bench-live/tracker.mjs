// Delivery bookkeeping in the load process: who should get what, who got what, and how late.
// Everything lives in preallocated typed arrays so a delivery allocates nothing beyond the parse.
//
// Each publish carries the text `t=<send time, ms since epoch> n=<k>`, k being its index within
// its story (0, 1, 2, ...). Socket i follows story i % stories plus the extra story "all".

export const ALL_STORY = 'all';

/** Current time in ms since the epoch with sub-ms precision (same clock as the `t=` stamps). */
export const nowMs = () => performance.timeOrigin + performance.now();

export class Tracker {
  /**
   * @param {object} o
   * @param {number} o.subs        sockets
   * @param {string[]} o.stories   ids of the regular stories
   * @param {number} o.maxPerStory most publishes any regular story will get
   * @param {number} o.allCount    publishes to the "all" story
   * @param {number} o.measuredMax most deliveries of measured publishes (sizes the latency buffer)
   */
  constructor({ subs, stories, maxPerStory, allCount, measuredMax }) {
    this.subs = subs;
    this.stories = stories;
    this.maxPerStory = maxPerStory;
    this.allCount = allCount;
    this.storyIndex = new Map(stories.map((s, i) => [s, i]));
    this.allIndex = stories.length;
    this.storyIndex.set(ALL_STORY, this.allIndex);

    this.storyOf = new Uint16Array(subs); // socket -> regular story index
    this.followers = new Uint32Array(stories.length); // story -> sockets following it
    for (let i = 0; i < subs; i++) {
      this.storyOf[i] = i % stories.length;
      this.followers[i % stories.length]++;
    }
    this.published = new Uint32Array(stories.length); // story -> publishes sent so far
    this.measured = new Uint8Array(stories.length * maxPerStory); // (story, k) -> 1 if in the measured window
    this.seen = new Uint8Array(subs * maxPerStory); // (socket, k) -> times received (saturates at 255)
    this.seenAll = new Uint8Array(subs * allCount); // (socket, k of "all") -> times received
    this.allReceived = new Uint32Array(allCount); // k of "all" -> sockets that have it
    this.allLastAt = new Float64Array(allCount); // k of "all" -> when the last socket got it
    this.allPublished = 0;

    this.latencies = new Float64Array(measuredMax);
    this.latencyCount = 0;
    this.expectedDeliveries = 0; // regular stories, every publish so far
    this.deliveries = 0; // regular stories, every delivery so far
    this.duplicates = 0;
    this.strays = 0; // a frame for a story the socket does not follow, or an unknown publish
  }

  /** Registers the next publish of regular story `s`; returns its k. */
  nextPublish(s, measured) {
    const k = this.published[s]++;
    if (k >= this.maxPerStory) throw new Error('more publishes than planned for a story');
    if (measured) this.measured[s * this.maxPerStory + k] = 1;
    this.expectedDeliveries += this.followers[s];
    return k;
  }

  /** Registers the next publish of the "all" story; returns its k. */
  nextAllPublish() {
    return this.allPublished++;
  }

  /** Handles one delivered update: socket `i` got `text` on `story`. */
  deliver(i, story, text) {
    const now = nowMs();
    const sep = text.indexOf(' n=');
    const sentAt = +text.slice(2, sep);
    const k = +text.slice(sep + 3);
    const s = this.storyIndex.get(story);
    if (s === this.allIndex) {
      if (!(k < this.allCount)) return void this.strays++;
      const slot = i * this.allCount + k;
      if (this.seenAll[slot]++ > 0) return void this.duplicates++;
      if (++this.allReceived[k] === this.subs) this.allLastAt[k] = now;
      return;
    }
    if (s !== this.storyOf[i] || !(k < this.published[s])) return void this.strays++;
    const slot = i * this.maxPerStory + k;
    if (this.seen[slot] > 0) {
      if (this.seen[slot] < 255) this.seen[slot]++;
      return void this.duplicates++;
    }
    this.seen[slot] = 1;
    this.deliveries++;
    if (this.measured[s * this.maxPerStory + k] === 1 && this.latencyCount < this.latencies.length) {
      this.latencies[this.latencyCount++] = now - sentAt;
    }
  }

  /** Deliveries still owed for the regular stories. */
  outstanding() {
    return this.expectedDeliveries - this.deliveries;
  }

  /** Counts, over every socket, publishes never received and publishes received more than once. */
  audit() {
    let missing = 0;
    let extra = 0;
    for (let i = 0; i < this.subs; i++) {
      const s = this.storyOf[i];
      for (let k = 0; k < this.published[s]; k++) {
        const n = this.seen[i * this.maxPerStory + k];
        if (n === 0) missing++;
        else if (n > 1) extra += n - 1;
      }
      for (let k = 0; k < this.allPublished; k++) {
        const n = this.seenAll[i * this.allCount + k];
        if (n === 0) missing++;
        else if (n > 1) extra += n - 1;
      }
    }
    return { missing, duplicates: Math.max(extra, this.duplicates), strays: this.strays };
  }
}
