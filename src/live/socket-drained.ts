import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

/**
 * Resolves true once `socket` has written out its buffer ('drain'), false when `closing` emits 'close' first or
 * `timeoutMs` passes (then `onTimeout` runs: the caller closes a slow consumer). The backlog of a WebSocket and of
 * an SSE stream waits on this before writing more.
 */
export function socketDrained(socket: Socket, closing: EventEmitter, timeoutMs: number, onTimeout: () => void): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (drained: boolean): void => {
      clearTimeout(timer);
      socket.off('drain', onDrain);
      closing.off('close', onClose);
      resolve(drained);
    };
    const onDrain = (): void => finish(true);
    const onClose = (): void => finish(false);
    const timer = setTimeout(() => {
      onTimeout();
      finish(false);
    }, timeoutMs);
    socket.once('drain', onDrain);
    closing.once('close', onClose);
  });
}

/** Unsent bytes past which a backlog (of a WebSocket or an SSE stream) waits for the socket to drain. */
const backlogHighWaterBytes = 64 * 1024;

/**
 * Whether a backlog frame of `length` bytes must wait for `socket` to drain first: past the high-water mark (at most
 * half the bound), so a backlog never holds more than that in memory.
 */
export function backlogMustWait(socket: Socket, length: number, maxBufferedBytes: number): boolean {
  return socket.writableLength > 0 && socket.writableLength + length > Math.min(backlogHighWaterBytes, maxBufferedBytes / 2);
}
