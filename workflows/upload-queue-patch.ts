/** Marks histories whose upload runs on the cloud's upload queue (`<prefix><cloud>-upload`), not its calls' queue. */
export const UPLOAD_QUEUE_PATCH = 'upload-queue';
