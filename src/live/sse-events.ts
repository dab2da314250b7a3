import { updateJson } from '../store/story-store.js';
import { publishedAtOf, storyChangePrefix } from '../protocol/update.js';

// Server-Sent Events encodings (https://html.spec.whatwg.org/multipage/server-sent-events.html). Every `data`
// is one line of JSON (JSON escapes line breaks), so no event needs splitting over several `data:` lines.

/** The `update` event of one stream entry: `id` is the stream id, so EventSource resumes with Last-Event-ID. */
export function sseUpdateEvent(story: string, id: string, data: string): Buffer {
  // A story change (title, status, flags) is a `story` event, never an `update`: older clients must not show it.
  const event = data.startsWith(storyChangePrefix) ? 'story' : 'update';
  return Buffer.from(`id: ${id}\nevent: ${event}\ndata: ${updateJson(story, id, data)}\n\n`);
}

/** The same as sseUpdateEvent from the stored JSON as bytes (the backlog), without a string of the entry. */
export function sseUpdateEventBytes(story: string, id: string, data: Buffer): Buffer {
  const event = data.subarray(0, storyChangePrefixBytes.length).equals(storyChangePrefixBytes) ? 'story' : 'update';
  const head = `id: ${id}\nevent: ${event}\ndata: {"id":"${id}","story":"${story}","publishedAt":"${publishedAtOf(id)}",`;
  return Buffer.concat([Buffer.from(head), data.subarray(1), eventEnd]);
}

const eventEnd = Buffer.from('\n\n');
const storyChangePrefixBytes = Buffer.from(storyChangePrefix);

/**
 * `reset`: the `Last-Event-ID` asked for is older than what the story retains, so entries may be missing
 * (`recovered: false` on the socket). The stream goes on live from `lastId`, which becomes the event id: reload
 * the story view, then carry on.
 */
export function sseResetEvent(story: string, lastId: string | null): string {
  return `${lastId === null ? '' : `id: ${lastId}\n`}event: reset\ndata: ${JSON.stringify({ story, lastId, recovered: false })}\n\n`;
}

/** The last event of a stream ended by the server for a reason the client must act on (`token_expired`). */
export function sseEndEvent(code: string, message: string): string {
  return `event: end\ndata: ${JSON.stringify({ code, message })}\n\n`;
}

/** Marks the moment the stream follows the story; with `lastId`, an id-only block that sets EventSource's last event id. */
export function sseSubscribed(lastId: string | null): string {
  return lastId === null ? ': subscribed\n\n' : `: subscribed\nid: ${lastId}\n\n`;
}

/** A comment line: keeps proxies from closing an idle stream. */
export const sseHeartbeat = ': heartbeat\n\n';

/** Sent first: EventSource retries after this many ms when the stream drops. */
export const sseRetry = 'retry: 1000\n\n';
