/** A one-line progress bar for a terminal (stderr), redrawn at most every 100 ms. */
export class ProgressBar {
  private last = 0;
  private drawn = false;

  constructor(
    private readonly write: (s: string) => void,
    private readonly width = 30,
  ) {}

  update(done: number, total: number): void {
    const now = Date.now();
    if (done < total && now - this.last < 100) return;
    this.last = now;
    const share = total === 0 ? 1 : done / total;
    const filled = Math.round(share * this.width);
    this.write(`\rreplay [${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${Math.floor(share * 100)}% (${done}/${total} steps)`);
    this.drawn = true;
  }

  /** Clears the line so the report starts on a clean one. */
  done(): void {
    if (this.drawn) this.write(`\r${' '.repeat(this.width + 40)}\r`);
    this.drawn = false;
  }
}
