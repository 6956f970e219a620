/** undici's side of a dispatch, enough to drive a DispatchCall by hand. */
export class FakeController {
  paused = false;
  aborted: Error | undefined;
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  abort(reason: Error) {
    this.aborted = reason;
  }
}
