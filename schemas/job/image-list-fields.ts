import { z } from 'zod';
import { LIMITS } from './limits.js';

/**
 * Imagecast addition: the signed HEPiX image lists (stored with `imagecast imagelist add`) that
 * carry this image line. After publish, the release writes its entry into each and publishes
 * them; deprecating the image takes the entry out again.
 */
export const imageListShape = {
  image_lists: z
    .array(z.string().min(1).max(LIMITS.name))
    .max(20)
    .optional()
    .meta({
      description:
        "Imagecast addition: image lists (a stored list's dc:identifier, or its dc:title) that carry this image line. After the publish step the release adds or updates the line's entry in each (hv:uri: the raw image upload's public URL when the job has one, else the build's URL; hv:size and sl:checksum:sha512 of the file as served, from the upload's stream) and signs and publishes the list; deprecating the image (a later release of the line, or a retirement schedule) removes the entry and publishes again. A list that is not stored refuses the job before anything is uploaded.",
      examples: [['Imagecast images'], ['3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b']],
      uniqueItems: true,
    }),
};
