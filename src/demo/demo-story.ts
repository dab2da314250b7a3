/**
 * The demo story, as data: a live blog of 15 February 2022, when Russia said some of its troops
 * near Ukraine were returning to base and Western and Ukrainian leaders answered with scepticism.
 * Based on reporting by Euronews with AFP; quotes are short and attributed, the rest is our wording.
 *
 * `occurredAt` carries the offset of the place where something was said or happened:
 * Moscow +03:00, Kyiv +02:00, Brussels / Berlin / Paris +01:00, London Z.
 */
import type { Source, StoryMetaInput } from '../protocol/update.js';

export type DemoEntry =
  | {
      ref: string;
      kind: 'statement' | 'reaction';
      occurredAt: string;
      source?: Source;
      text: string;
      lang?: string;
      key?: boolean;
      inReplyToRef?: string;
    }
  | { ref: string; kind: 'correction'; correctsRef: string; occurredAt?: string; text?: string; note: string; retract?: true };

/** The demo story's id. */
export const demoStoryId = 'russia-troops-2022-02-15';

export const demoMeta: StoryMetaInput = {
  title: 'Russia says troops near Ukraine are heading back to base; NATO and allies see no sign yet',
  summary:
    "Russia's defence ministry says some units deployed near Ukraine's border have finished their drills and are returning to their garrisons. " +
    'NATO, the UK, France and Ukraine say they will believe it when they see it, while Germany\'s Olaf Scholz, meeting Vladimir Putin in Moscow, calls it a good signal.',
  status: 'live',
  coverageStartTime: '2022-02-15T08:00:00+01:00',
};

const konashenkov: Source = { name: 'Igor Konashenkov', role: 'Defence ministry spokesperson, Major General', org: 'Russian Ministry of Defence' };
const stoltenberg: Source = { name: 'Jens Stoltenberg', role: 'Secretary-General', org: 'NATO' };
const johnson: Source = { name: 'Boris Johnson', role: 'Prime Minister', org: 'UK Government' };
const attal: Source = { name: 'Gabriel Attal', role: 'Government spokesperson', org: 'French Government' };
const kuleba: Source = { name: 'Dmytro Kuleba', role: 'Foreign Minister', org: 'Ukraine' };
const scholz: Source = { name: 'Olaf Scholz', role: 'Chancellor', org: 'Germany' };
const putin: Source = { name: 'Vladimir Putin', role: 'President', org: 'Russia' };
const lavrov: Source = { name: 'Sergei Lavrov', role: 'Foreign Minister', org: 'Russia' };

/** In publishing order. `inReplyToRef`/`correctsRef` name an earlier entry's `ref` (ids are assigned by Redis at ingest). */
export const demoEntries: readonly DemoEntry[] = [
  {
    ref: 'lavrov-talks',
    kind: 'statement',
    occurredAt: '2022-02-14T12:30:00+03:00',
    source: lavrov,
    text:
      'Background: on Monday, Putin asked his foreign minister whether there was "a chance" that talks with Washington and NATO could produce results. ' +
      'Sergei Lavrov answered that Moscow should press on with the negotiations for now.',
    lang: 'en',
  },
  {
    ref: 'biden-johnson-call',
    kind: 'statement',
    occurredAt: '2022-02-14T20:45:00Z',
    source: { name: 'Downing Street', role: 'Readout of the Johnson-Biden call', org: 'UK Government' },
    text:
      'Background: in a phone call on Monday evening, US President Joe Biden and British Prime Minister Boris Johnson agreed that there "remained a crucial window for diplomacy" over Ukraine.',
    lang: 'en',
  },
  {
    ref: 'buildup',
    kind: 'statement',
    occurredAt: '2022-02-15T08:00:00+01:00',
    text:
      'Where things stand: over recent months Russia has massed more than 100,000 troops and their equipment along its border with Ukraine. ' +
      'Moscow denies planning an invasion, but wants guarantees that Ukraine and other former Soviet states will never join NATO, a demand Western allies reject as a matter of every nation\'s right to choose.',
    lang: 'en',
  },
  {
    ref: 'mod-announcement',
    kind: 'statement',
    occurredAt: '2022-02-15T10:50:00+03:00',
    source: konashenkov,
    text:
      "Russia's defence ministry says some of its forces near Ukraine are returning to base. In a video, spokesman Igor Konashenkov said that " +
      '"as the military military training activities are over", troops would march back to their permanent bases, and that units of the Southern and Western ' +
      'military districts had begun loading onto trains and trucks and would set off for their garrisons today.',
    lang: 'en',
    key: true,
  },
  {
    ref: 'scholz-arrives',
    kind: 'statement',
    occurredAt: '2022-02-15T13:00:00+03:00',
    text:
      "German Chancellor Olaf Scholz has sat down with Vladimir Putin at the Kremlin. In Kyiv on Monday, Scholz restated the West's backing for Ukraine's " +
      '"sovereignty and territorial integrity" and called on Moscow to show signs of de-escalation "urgently".',
    lang: 'en',
  },
  {
    ref: 'belarus-drills',
    kind: 'statement',
    occurredAt: '2022-02-15T11:15:00+01:00',
    text:
      'Context: Russian troops are also in Belarus for joint military exercises scheduled to end on 20 January, and Moscow has sent six warships into the Black Sea.',
    lang: 'en',
  },
  {
    ref: 'kuleba',
    kind: 'reaction',
    occurredAt: '2022-02-15T12:35:00+02:00',
    source: kuleba,
    text:
      "Ukraine's foreign minister says Kyiv and its partners have so far kept Russia from escalating further, but he is not taking Moscow at its word: " +
      '"we will believe in de-escalation when we see the withdrawal of troops."',
    lang: 'en',
    inReplyToRef: 'mod-announcement',
  },
  {
    ref: 'fix-mod-typo',
    kind: 'correction',
    correctsRef: 'mod-announcement',
    occurredAt: '2022-02-15T11:40:00Z',
    text:
      "Russia's defence ministry says some of its forces near Ukraine are returning to base. In a video, spokesman Igor Konashenkov said that " +
      '"as the military training activities are over", troops would march back to their permanent bases, and that units of the Southern and Western ' +
      'military districts had begun loading onto trains and trucks and would set off for their garrisons today.',
    note: 'Removes a repeated word ("military military") from the quote of the ministry spokesman.',
  },
  {
    ref: 'attal',
    kind: 'reaction',
    occurredAt: '2022-02-15T12:45:00+01:00',
    source: attal,
    text: 'If the pullback of some Russian troops is confirmed, it would be a "positive signal" from Moscow, French government spokesman Gabriel Attal said.',
    lang: 'en',
    inReplyToRef: 'mod-announcement',
  },
  {
    ref: 'macron-agenda',
    kind: 'statement',
    occurredAt: '2022-02-15T12:48:00+01:00',
    source: attal,
    text:
      'Attal added that President Emmanuel Macron has rearranged his day: "exchanges are planned at the level of heads of state" in the coming hours.',
    lang: 'en',
  },
  {
    ref: 'johnson-not-encouraging',
    kind: 'reaction',
    occurredAt: '2022-02-15T12:10:00Z',
    source: johnson,
    text:
      'Boris Johnson says the latest intelligence is "still not encouraging". He pointed to field hospitals being set up near the Ukrainian border and in Belarus, ' +
      'which he said "can only be construed as preparation for an invasion".',
    lang: 'en',
    key: true,
    inReplyToRef: 'mod-announcement',
  },
  {
    ref: 'johnson-mixed-signals',
    kind: 'reaction',
    occurredAt: '2022-02-15T12:14:00Z',
    source: johnson,
    text:
      'Johnson said more battalion tactical groups are being moved closer to the border, and that Russia is ready to go into Ukraine at almost any moment. ' +
      'His verdict on the day: "mixed signals".',
    lang: 'en',
    inReplyToRef: 'mod-announcement',
  },
  {
    ref: 'stoltenberg-no-signs',
    kind: 'reaction',
    occurredAt: '2022-02-15T13:30:00+01:00',
    source: stoltenberg,
    text:
      'NATO has seen no reduction of Russian forces at the Ukrainian border so far, nor "any signs of de-escalation on the ground", Jens Stoltenberg told a news conference in Brussels. ' +
      'The force Russia has gathered is "unprecedented since the Cold War", he said, and "everything is now in place for a new attack."',
    lang: 'en',
    key: true,
    inReplyToRef: 'mod-announcement',
  },
  {
    ref: 'stoltenberg-cautious',
    kind: 'reaction',
    occurredAt: '2022-02-15T13:38:00+01:00',
    source: stoltenberg,
    text:
      'Stoltenberg said Moscow\'s signals that it is still open to dialogue give "some reason for cautious optimism". NATO will keep watching the ground closely ' +
      'to judge whether this is a "real de-escalation".',
    lang: 'en',
    inReplyToRef: 'mod-announcement',
  },
  {
    ref: 'sanctions',
    kind: 'statement',
    occurredAt: '2022-02-15T14:00:00+01:00',
    text:
      'Western allies have prepared what they call "severe" economic sanctions to deter any Russian incursion into Ukraine. ' +
      "NATO's defence ministers meet in Brussels for two days from Wednesday.",
    lang: 'en',
  },
  {
    ref: 'putin-no-war',
    kind: 'statement',
    occurredAt: '2022-02-15T17:10:00+03:00',
    source: putin,
    text:
      'After talks with Scholz, Vladimir Putin said he does not want a war around Ukraine. He said Russia is ready to discuss limits on missile deployments and military transparency ' +
      'with the US and NATO, although its own security demands have not had positive answers.',
    lang: 'en',
    key: true,
  },
  {
    ref: 'scholz-good-signal',
    kind: 'reaction',
    occurredAt: '2022-02-15T17:20:00+03:00',
    source: scholz,
    text:
      'At a joint news conference with Putin, Olaf Scholz said diplomatic options are "far from exhausted" and called the announced pullback of some troops a "good signal".',
    lang: 'en',
    inReplyToRef: 'mod-announcement',
  },
  {
    ref: 'fix-belarus-date',
    kind: 'correction',
    correctsRef: 'belarus-drills',
    occurredAt: '2022-02-15T15:35:00+01:00',
    text:
      'Context: Russian troops are also in Belarus for joint military exercises scheduled to end on 20 February, and Moscow has sent six warships into the Black Sea.',
    note: 'An earlier version said the Russia-Belarus exercises end on 20 January. They are scheduled to end on 20 February.',
  },
];

/** Entries before this index are loaded at start; the rest are replayed live, one every few seconds. */
export const demoLiveFrom: number = 11;
