// The newest lines a follower has read, bounded twice: at most `maxLines` lines and at most
// `maxChars` characters in all (each line already cut to a bounded length by its reader), so a
// journal that prints 10,000 lines at once, or a log of megabyte lines, holds a fixed amount of
// memory. Every line gets a sequence number that stays its own while older lines drop out, so a
// view scrolled back keeps its place.
export interface RingLine {
  /** 0 for the first line ever pushed, counting up */
  seq: number;
  text: string;
}

export class LineRing<T extends RingLine> {
  private items: T[] = [];
  /** index in `items` of the oldest line still held (the ones before it are dropped) */
  private head = 0;
  private chars = 0;
  private nextSeq = 0;
  /** lines dropped to stay within bounds, since the start */
  dropped = 0;

  constructor(
    readonly maxLines: number,
    readonly maxChars: number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** characters held now */
  get size(): number {
    return this.chars;
  }

  /** lines pushed since the start */
  get total(): number {
    return this.nextSeq;
  }

  push(line: Omit<T, 'seq'>): void {
    this.items.push({ ...line, seq: this.nextSeq++ } as T);
    this.chars += line.text.length;
    while (this.length > this.maxLines || (this.chars > this.maxChars && this.length > 1)) {
      this.chars -= this.items[this.head].text.length;
      this.head++;
      this.dropped++;
    }
    // the dropped slots are given back in one splice once they outnumber the live ones
    if (this.head > 1024 && this.head > this.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The lines held, oldest first (a copy: the ring goes on changing). */
  toArray(): T[] {
    return this.items.slice(this.head);
  }

  clear(): void {
    this.dropped += this.length;
    this.items = [];
    this.head = 0;
    this.chars = 0;
  }
}
