// Just enough MIME (RFC 2045-2047) to read what nodemailer sent the SMTP sink: unfolded
// headers, multipart bodies, quoted-printable and base64 parts, encoded-word subjects.
// Tests assert on the decoded text, not on whichever transfer encoding nodemailer picked.

export interface MimePart {
  /** Lower-cased names; folded lines joined. */
  headers: Map<string, string>;
  /** Decoded body of a leaf part; empty for multipart containers. */
  body: string;
  parts: MimePart[];
}

export interface ReadMail {
  headers: Map<string, string>;
  subject: string;
  text: string;
  html: string;
}

/** The headers and the decoded text/plain and text/html bodies of one message. */
export function readMail(data: string): ReadMail {
  const root = parseMime(data);
  const leaves = flatten(root);
  const body = (type: string) =>
    leaves.find((p) => (p.headers.get('content-type') ?? '').startsWith(type))?.body ?? '';
  return {
    headers: root.headers,
    subject: decodeWords(root.headers.get('subject') ?? ''),
    text: body('text/plain'),
    html: body('text/html'),
  };
}

export function parseMime(data: string): MimePart {
  const split = data.indexOf('\r\n\r\n');
  const head = split < 0 ? data : data.slice(0, split);
  const raw = split < 0 ? '' : data.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.toLowerCase().startsWith('multipart/') && boundary) {
    const sections = raw.split(`--${boundary}`).slice(1);
    const parts = sections
      .filter((s) => !s.startsWith('--'))
      .map((s) => parseMime(s.replace(/^\r\n/, '').replace(/\r\n$/, '')));
    return { headers, body: '', parts };
  }
  return { headers, body: decodeBody(raw, headers.get('content-transfer-encoding') ?? '7bit'), parts: [] };
}

function flatten(part: MimePart): MimePart[] {
  return part.parts.length ? part.parts.flatMap(flatten) : [part];
}

function decodeBody(raw: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(raw.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return quotedPrintable(raw.replace(/=\r\n/g, ''));
    default:
      return raw;
  }
}

/** =XX escapes are bytes of UTF-8, so decode to bytes first, then to text. */
function quotedPrintable(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`); adjacent words join without the space between. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : quotedPrintable(text.replace(/_/g, ' ')),
    );
}
