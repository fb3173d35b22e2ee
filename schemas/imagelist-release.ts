// What releases and deprecations tell about the image lists they changed (job field
// image_lists): shared by the workflows (status board, result) and the activities.

/** One list a release or a deprecation signed and published. Plain data, no key. */
export interface ListPublication {
  identifier: string;
  title: string;
  /** Where subscribers fetch it (its hv:uri). */
  uri: string;
  version: string;
  images: number;
  expires: string;
}

/** The image file a release's list entry names: the raw upload's object, or the build's file as served. */
export type ListEntryFile =
  | { rawUploadUrl: string; sizeBytes: number; sha512: string }
  | { uri: string; sizeBytes: number; sha512: string };
