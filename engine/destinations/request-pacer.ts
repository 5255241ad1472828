/** Paces a destination's requests to its requests-per-second limit (a token bucket holding 1/20 s of requests, so a burst stays within 5 % of a second's rate), shared by its lanes. */

export class RequestPacer {
  #tokens: number;
  #last: number;
  readonly #rate: number;
  readonly #capacity: number;

  /** `rate` requests per second; 0 means no limit. */
  constructor(rate: number, private readonly clock: () => number = () => performance.now()) {
    this.#rate = rate;
    this.#capacity = Math.max(1, Math.ceil(rate / 20));
    // (no burst at the start: the first second holds the rate too)
    this.#tokens = 1;
    this.#last = clock();
  }

  /** Resolves when a request may go (immediately without a limit). */
  async take(): Promise<void> {
    if (this.#rate <= 0) return;
    for (;;) {
      const now = this.clock();
      this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
      this.#last = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(((1 - this.#tokens) / this.#rate) * 1000)));
    }
  }
}
