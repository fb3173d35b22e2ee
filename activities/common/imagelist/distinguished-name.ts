// hv:dn and hv:ca are compared as exact strings with OpenSSL's X509_NAME_oneline() of the
// signer's subject and issuer (`/C=DE/O=GermanGrid/CN=…`, certificate order, not RFC 4514's
// reversed `CN=…,O=…`), so we must write exactly that form.
//
// node:crypto's X509Certificate gives `subject`/`issuer` as X509_NAME_print_ex() with
// XN_FLAG_SEP_MULTILINE | XN_FLAG_FN_SN | ASN1_STRFLGS_ESC_2253 | ESC_CTRL | UTF8_CONVERT:
// one `SN=value` per line in certificate order, values of a multi-valued RDN joined by " + ",
// RFC 2253 specials escaped with a backslash (`\,` `\+` `\"` `\\` `\<` `\>` `\;`, a leading
// `\#` or space, a trailing space), control characters as `\XX` hex, and other text as UTF-8.
//
// X509_NAME_oneline() (OpenSSL 3.0, crypto/x509/x509_obj.c) writes `/` before each RDN and
// `+` between the values of a multi-valued one, backslash-escapes `/` and `+` in values, and
// writes every byte outside 0x20-0x7e as `\xHH` (upper-case hex). So we undo Node's escaping
// back to the value's bytes and apply OpenSSL's. Checked against `openssl x509 -nameopt compat`
// in test/activities/common/imagelist/distinguished-name.test.ts.
//
// Known differences, all from names no grid CA issues: a TeletexString or BMPString with
// characters beyond ASCII (Node converts it to UTF-8, oneline writes its raw bytes); and
// OpenSSL 1.x, which vmcatcher was written against, did not escape `/`/`+` and wrote `/`
// between multi-valued RDN values.

/** One attribute of a name: its short name (`CN`, `emailAddress`, or a dotted OID) and value bytes. */
export interface NameAttribute {
  type: string;
  value: Buffer;
}

/** The RDNs of a name in certificate order; each RDN has one attribute, or more when multi-valued. */
export type ParsedName = NameAttribute[][];

/** Reads node:crypto's `subject`/`issuer` text back into attributes. */
export function parseNodeName(text: string): ParsedName {
  if (text === '') return [];
  return splitUnescaped(text, '\n').map((rdn) =>
    splitUnescaped(rdn, ' + ').map((attribute) => {
      const eq = attribute.indexOf('=');
      if (eq <= 0) throw new Error(`cannot read the name attribute ${JSON.stringify(attribute)}`);
      return { type: attribute.slice(0, eq), value: unescapeValue(attribute.slice(eq + 1)) };
    }),
  );
}

/** `/C=DE/O=GermanGrid/CN=Jane Doe`, as `openssl x509 -noout -subject -nameopt compat` prints it. */
export function onelineName(name: ParsedName): string {
  return name.map((rdn) => '/' + rdn.map((a) => `${a.type}=${onelineValue(a.value)}`).join('+')).join('');
}

/** node:crypto's name text (X509Certificate `subject` or `issuer`) in OpenSSL's one-line form. */
export function onelineDn(nodeName: string): string {
  return onelineName(parseNodeName(nodeName));
}

/** Splits at `separator` where it is not part of a backslash escape. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      i++; // the escaped character (or the first hex digit, which is never a separator)
      continue;
    }
    if (text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
      i = start - 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

/** `J\C3\B6rg` → bytes; `\,` → `,`; `\01` → byte 1; anything else as UTF-8. */
function unescapeValue(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      const pair = text.slice(i + 1, i + 3);
      // ESC_2253 escapes only the specials, which are not hex digits, so two hex digits
      // after a backslash are always ESC_CTRL's (or ESC_MSB's) byte.
      if (HEX_PAIR.test(pair)) {
        bytes.push(parseInt(pair, 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(text[i + 1]!, 'utf8'));
        i += 1;
      }
      continue;
    }
    const codePoint = text.codePointAt(i)!;
    const char = String.fromCodePoint(codePoint);
    bytes.push(...Buffer.from(char, 'utf8'));
    i += char.length - 1;
  }
  return Buffer.from(bytes);
}

/** X509_NAME_oneline's value: printable ASCII as is, `/` and `+` escaped, other bytes `\xHH`. */
function onelineValue(value: Buffer): string {
  let out = '';
  for (const byte of value) {
    if (byte < 0x20 || byte > 0x7e) out += `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    else {
      const ch = String.fromCharCode(byte);
      out += ch === '/' || ch === '+' ? `\\${ch}` : ch;
    }
  }
  return out;
}
