import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import * as wsModule from 'ws';
import { publishedAtOf, storyChangePrefix } from '../protocol/update.js';
import { updateJson } from '../store/story-store.js';

interface SenderStatics {
  frame(data: Buffer, options: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[];
}

// ws exports its framer (`Sender`) at run time; @types/ws does not declare it.
const { Sender } = wsModule as unknown as { Sender: SenderStatics };
if (typeof Sender?.frame !== 'function') throw new Error('this ws version does not export Sender.frame');

/**
 * A complete, unmasked WebSocket text frame (header + payload) for `payload`. Server frames are never
 * masked, so these bytes are the same for every socket: build them once per update and write them to
 * every subscriber.
 */
export function encodeTextFrame(payload: string): Buffer {
  return Buffer.concat(textFrameParts(Buffer.from(payload)));
}


/**
 * The TCP socket under a server-side `ws` WebSocket. Writing pre-built frames to it directly is safe here
 * because permessage-deflate is off, so ws's sender never holds frames back: its own writes and ours reach
 * the socket in call order, and `bufferedAmount` still counts ours. Returns undefined if a future ws changes
 * shape (the live tests then fail loudly).
 */
export function rawSocketOf(ws: WebSocket): Socket | undefined {
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  return socket && typeof socket.write === 'function' ? socket : undefined;
}

/**
 * The JSON text of the frame of one stream entry, built from the stored JSON without parsing it: a `story` frame
 * for a story-change entry (told by its first bytes, `{"kind":"story"`), else an `update` frame.
 */
export function updateFrameJson(story: string, id: string, data: string): string {
  if (data.startsWith(storyChangePrefix)) return `{"type":"story","story":"${story}","change":${updateJson(story, id, data)}}`;
  return `{"type":"update","story":"${story}","update":${updateJson(story, id, data)}}`;
}

/**
 * The `update` frame payload of one stream entry, from its stored JSON as bytes: the same text as
 * `updateFrameJson`, built without turning the entry into a string (the backlog sends many of these to one
 * socket, and strings would all pass through the JS heap).
 */
export function updateFrameBytes(story: string, id: string, data: Buffer): Buffer {
  const frame = isStoryChangeBytes(data) ? '{"type":"story","story":"' + story + '","change"' : '{"type":"update","story":"' + story + '","update"';
  const head = `${frame}:{"id":"${id}","story":"${story}","publishedAt":"${publishedAtOf(id)}",`;
  return Buffer.concat([Buffer.from(head), data.subarray(1), closingBrace]);
}

const closingBrace = Buffer.from('}');
const storyChangePrefixBytes = Buffer.from(storyChangePrefix);

function isStoryChangeBytes(data: Buffer): boolean {
  return data.length >= storyChangePrefixBytes.length && storyChangePrefixBytes.equals(data.subarray(0, storyChangePrefixBytes.length));
}

/** An unmasked text frame for `payload` as its header and the payload itself, uncopied. */
export function textFrameParts(payload: Buffer): Buffer[] {
  return Sender.frame(payload, { fin: true, rsv1: false, opcode: 0x1, mask: false, readOnly: false });
}

/** A complete, unmasked WebSocket ping with no payload: the same bytes for every socket, so built once. */
export const pingFrame: Buffer = Buffer.concat(Sender.frame(Buffer.alloc(0), { fin: true, rsv1: false, opcode: 0x9, mask: false, readOnly: false }));
