import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes every release keeps current, so the Web UI and `job list` can
 * filter releases. The dev stack registers them at server start; a real cluster needs
 * `temporal operator search-attribute create` once (docs/operations.md).
 */
export const SEARCH_ATTRIBUTE_TYPES = {
  ImageName: 'Keyword',
  Cloud: 'Keyword',
  Account: 'Keyword',
  ReleaseStep: 'Keyword',
  ReleaseStatus: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTE_TYPES;

export const searchAttributeKeys = {
  imageName: defineSearchAttributeKey('ImageName', SearchAttributeType.KEYWORD),
  cloud: defineSearchAttributeKey('Cloud', SearchAttributeType.KEYWORD),
  account: defineSearchAttributeKey('Account', SearchAttributeType.KEYWORD),
  releaseStep: defineSearchAttributeKey('ReleaseStep', SearchAttributeType.KEYWORD),
  releaseStatus: defineSearchAttributeKey('ReleaseStatus', SearchAttributeType.KEYWORD),
} as const;
