import { describe, expect, it } from 'vitest';
import { pingFrame, updateFrameBytes, updateFrameJson } from '../../src/live/frame.js';
import { ServerFrame } from '../../src/protocol/live-messages.js';

const story = 'frame-unit';
const id = '1644919200000-0';

describe('entry frames', () => {
  it('frames a story-change entry as a `story` frame and an update as an `update` frame, the same live and in a backlog', () => {
    const change = '{"kind":"story","meta":{"title":"T","status":"ended","pinned":"1644919100000-0"},"flags":{"update":"1644919100000-0","pinned":true}}';
    const update = '{"kind":"statement","occurredAt":"2022-02-15T12:00:00+03:00","text":"{\\"kind\\":\\"story\\""}';
    for (const [data, type] of [
      [change, 'story'],
      [update, 'update'],
    ] as const) {
      const json = updateFrameJson(story, id, data);
      expect(updateFrameBytes(story, id, Buffer.from(data)).toString()).toBe(json);
      const frame = ServerFrame.parse(JSON.parse(json));
      expect(frame.type).toBe(type);
    }
    expect(JSON.parse(updateFrameJson(story, id, change))).toEqual({
      type: 'story',
      story,
      change: { id, story, publishedAt: '2022-02-15T10:00:00.000Z', kind: 'story', meta: { title: 'T', status: 'ended', pinned: '1644919100000-0' }, flags: { update: '1644919100000-0', pinned: true } },
    });
  });
});

describe('ping frame', () => {
  it('is a final, unmasked ping with no payload (RFC 6455: 0x89 0x00)', () => {
    expect([...pingFrame]).toEqual([0x89, 0x00]);
  });
});
