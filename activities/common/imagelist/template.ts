// A starting point for a new list: every required key, the endorser filled in from the
// certificate that will sign it (so hv:dn/hv:ca are right by construction), no images.
import { randomUUID } from 'node:crypto';
import type { ImageList } from '../../../schemas/imagelist.js';
import type { EndorserCertificate } from './endorser-certificate.js';
import { parseNodeName } from './distinguished-name.js';
import { DEFAULT_LIFETIME_DAYS, listDates } from './hepix-date.js';

export interface TemplateInput {
  cert: EndorserCertificate;
  now: Date;
  title?: string;
  uri?: string;
  email?: string;
  creator?: string;
}

/** The last value of a subject attribute, as text (not the one-line form's \\xHH escapes). */
export function subjectValue(cert: EndorserCertificate, type: string): string | undefined {
  const values = parseNodeName(cert.x509.subject)
    .flat()
    .filter((a) => a.type === type);
  return values.at(-1)?.value.toString('utf8');
}

/** The e-mail address a certificate names (emailAddress attribute or subjectAltName), if any. */
export function certificateEmail(cert: EndorserCertificate): string | undefined {
  return subjectValue(cert, 'emailAddress') ?? /email:([^,\s]+)/.exec(cert.x509.subjectAltName ?? '')?.[1];
}

export function imageListTemplate(input: TemplateInput): ImageList {
  const dates = listDates(input.now, DEFAULT_LIFETIME_DAYS, input.cert.notAfter);
  return {
    'hv:imagelist': {
      'dc:date:created': dates.created,
      'dc:date:expires': dates.expires,
      'dc:identifier': randomUUID(),
      'dc:description': '',
      'dc:source': input.uri ? new URL(input.uri).host : '',
      'dc:title': input.title ?? 'Images',
      'hv:version': '0.0.1',
      'hv:uri': input.uri ?? 'https://images.example.org/image.list',
      'hv:endorser': {
        'hv:x509': {
          'dc:creator': input.creator ?? subjectValue(input.cert, 'CN') ?? 'Endorser',
          'hv:ca': input.cert.ca,
          'hv:dn': input.cert.dn,
          'hv:email': input.email ?? certificateEmail(input.cert) ?? 'endorser@example.org',
        },
      },
      'hv:images': [],
    },
  };
}
