// What reaches Slack, in @slack/types' own words: `tools/block_kit_schema.sh` turns these into
// `specs/slack/block-kit.schema.json`, which the fake Slack (`fakes/block_kit_schema.py`) checks against.
// `KnownBlock`, not `AnyBlock`: `AnyBlock` also admits a generic `{type: string}` block, which would
// let any misspelt block through.
import type { HomeView, KnownBlock, ModalView } from '@slack/types';

/** A message's `blocks` (chat.postMessage, chat.update, chat.postEphemeral, response_url). */
export type MessageBlocks = KnownBlock[];

/** views.open, views.push and views.update. */
export interface Modal extends Omit<ModalView, 'blocks'> {
  blocks: KnownBlock[];
}

/** views.publish. */
export interface Home extends Omit<HomeView, 'blocks'> {
  blocks: KnownBlock[];
}

/** The answer to a view_submission that replaces or stacks a modal. */
export interface ViewSubmissionAnswer {
  response_action: 'update' | 'push';
  view: Modal;
}
