/**
 * The engine's fault layer: faults that strike after status 200, once `after_tokens` tokens went out
 * (disconnect, stall, malformed_chunk, mid_stream_error, finish_reason) or right after the headers
 * (error_after_headers). Which fault a flight carries was decided at admission (faults.ts).
 */
import { SERVER_ERROR_MESSAGE } from './faults.js';
import { Phase, type Flight } from './flight.js';
import { EngineOutput } from './output.js';

/**
 * What a fault does to a response already under way; a layer between the token output and Engine (see
 * output.ts for why layers rather than helper objects).
 */
export abstract class MidStreamFaults extends EngineOutput {
  /** A mid-stream fault strikes after `after_tokens` tokens. */
  protected override strike(f: Flight, now: number): void {
    const fault = f.fault!;
    f.faultAt = Infinity;
    switch (fault.kind) {
      case 'disconnect':
        return this.cut(f, 'fault');
      case 'stall':
        f.phase = Phase.Stalled;
        f.shiftUs += fault.duration_ms * 1000 * this.scale;
        this.wheel.schedule(f, now + fault.duration_ms * 1000 * this.scale);
        return;
      case 'malformed_chunk':
        f.res.write(this.dialect(f).malformed(f));
        return this.decode(f, now);
      case 'mid_stream_error':
        f.res.write(this.dialect(f).streamError(f, fault.message ?? SERVER_ERROR_MESSAGE, f.surface === 'openai' ? 'server_error' : 'api_error'));
        return this.end(f, 'fault');
      case 'finish_reason':
        f.finishReason = fault.reason;
        f.res.write(this.dialect(f).close(f));
        return this.end(f, 'fault');
    }
  }

  /** An error after status 200 (error_after_headers): in a data frame when streaming, a JSON body otherwise. */
  protected failAfterHeaders(f: Flight, message: string): void {
    const d = this.dialect(f);
    f.res.write(f.stream ? d.streamError(f, message, f.surface === 'openai' ? 'server_error' : 'api_error') : d.errorBody(500, message));
    this.end(f, 'fault');
  }
}
