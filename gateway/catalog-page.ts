import type {
  PublicCatalogPage,
  PublicCatalogQuery,
  PublicFile,
  PublicImage,
  PublicImageLine,
  PublicRegion,
} from '../activities/common/catalog/public-catalog.js';

/**
 * The catalog as one self-contained HTML page: no script, no external asset (the gateway's
 * Content-Security-Policy allows neither), search by a GET form so it works in any browser.
 * Every catalog value goes through `escape`: image names come from job documents.
 */
export function renderCatalogPage(page: PublicCatalogPage, query: PublicCatalogQuery): string {
  const count = page.lines.length;
  const searched = Boolean(query.q || query.cloud || query.arch);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Imagecast public image catalog</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Public image catalog</h1>
<p>Every public image line with its current image in each cloud region. As data: <a href="catalog.json${escape(queryString(query))}">catalog.json</a>.</p>
<form method="get" action="catalog" role="search">
<label>Name, OS or image id <input type="search" name="q" value="${escape(query.q ?? '')}" placeholder="e.g. sles 15 sp6"></label>
${select('cloud', 'Cloud', page.clouds, query.cloud)}
${select('arch', 'Architecture', page.architectures, query.arch)}
<button type="submit">Search</button>
${searched ? '<a href="catalog">Show all</a>' : ''}
</form>
</header>
<main>
<p id="result-count">${count} image line${count === 1 ? '' : 's'}${searched ? ' match' : ''}</p>
${page.lines.map(renderLine).join('\n')}
</main>
</body>
</html>
`;
}

function renderLine(line: PublicImageLine): string {
  return `<section class="line" data-line="${escape(line.line)}">
<h2>${escape(line.line)}</h2>
<p class="facts">${line.clouds.map((c) => `<span class="tag">${escape(c)}</span>`).join(' ')} <span class="tag">${escape(line.architecture ?? 'architecture not stated')}</span></p>
<table class="regions">
<thead><tr><th>cloud</th><th>region</th><th>image</th><th>id</th><th>state</th><th>released</th><th>notes</th></tr></thead>
<tbody>
${line.regions.flatMap(regionRows).join('\n')}
</tbody>
</table>
<h3>Image files</h3>
<ul class="files">
${line.files.map(renderFile).join('\n')}
</ul>
</section>`;
}

function regionRows(region: PublicRegion): string[] {
  const images = [...region.current, ...region.deprecated];
  return images.map(
    (image) => `<tr class="image ${image.state}" data-image-id="${escape(image.imageId)}">
<td>${escape(region.cloud)}</td><td>${escape(region.region)}</td><td>${escape(image.imageName)}</td>
<td><code>${escape(image.imageId)}</code></td><td><span class="state">${image.state}</span></td>
<td>${date(image.activatedAt ?? image.createdAt)}</td><td>${notes(image)}</td></tr>`,
  );
}

function notes(image: PublicImage): string {
  if (image.state === 'active') return image.sourceVersion ? `version ${escape(version(image))}` : '';
  const parts = [`deprecated ${date(image.deprecatedAt)}`];
  parts.push(
    image.replacement
      ? `replaced by <span class="replacement">${escape(image.replacement.imageName)} (<code>${escape(image.replacement.imageId)}</code>)</span>`
      : 'no public replacement',
  );
  if (image.deleteAfter) parts.push(`deleted after ${date(image.deleteAfter)}`);
  return parts.join('; ');
}

function renderFile(file: PublicFile): string {
  const lists = file.signedLists.length
    ? file.signedLists
        .map(
          (l) =>
            `<a href="${escape(l.url)}">${escape(l.title ?? l.uuid)}</a> endorsed by ${escape(l.endorser)}, expires ${date(l.expiresAt)}${
              l.publishedUri ? `, subscribe at <code>${escape(l.publishedUri)}</code>` : ''
            }`,
        )
        .join('; ')
    : 'in no signed image list';
  const source = file.sourceVersion ? ` (version ${escape(version(file))})` : '';
  return `<li><code class="checksum">${escape(file.checksum)}</code>${source}: ${file.imageNames.map(escape).join(', ')}. <span class="lists">${lists}</span></li>`;
}

function select(name: string, label: string, choices: string[], chosen: string | undefined): string {
  const options = ['', ...choices]
    .map(
      (c) =>
        `<option value="${escape(c)}"${c === (chosen ?? '') ? ' selected' : ''}>${c ? escape(c) : 'any'}</option>`,
    )
    .join('');
  return `<label>${label} <select name="${name}">${options}</select></label>`;
}

function version(x: { sourceVersion?: string; sourceRelease?: string }): string {
  return `${x.sourceVersion ?? ''}${x.sourceRelease ? ` build ${x.sourceRelease}` : ''}`;
}

function date(d: Date | undefined): string {
  return d ? `<time datetime="${d.toISOString()}">${d.toISOString().slice(0, 10)}</time>` : '';
}

/** The page's own query string, for the JSON link. */
export function queryString(query: PublicCatalogQuery): string {
  const params = new URLSearchParams();
  for (const key of ['q', 'cloud', 'arch'] as const) if (query[key]) params.set(key, query[key]);
  const text = params.toString();
  return text ? `?${text}` : '';
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header, main { max-width: 1200px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 12px; }
h1 { margin: 8px 0 4px; }
form { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; margin: 12px 0; }
label { display: flex; flex-direction: column; font-size: 13px; color: #4a5163; }
input, select, button { font: inherit; padding: 5px 8px; }
input[type=search] { min-width: 280px; }
.line { background: #fff; border: 1px solid #d9dde5; border-radius: 6px; padding: 4px 16px 12px; margin: 14px 0; }
.line h2 { font-size: 18px; margin: 10px 0 2px; }
.line h3 { font-size: 14px; margin: 12px 0 4px; }
.tag { display: inline-block; font-size: 12px; background: #e8ecf3; border-radius: 3px; padding: 0 6px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid #eceff4; vertical-align: top; }
th { font-weight: 600; color: #4a5163; }
td:nth-child(-n+2), td:nth-child(5), td:nth-child(6) { white-space: nowrap; }
.state { font-weight: 600; }
tr.active .state { color: #17753a; }
tr.deprecated { color: #6b7280; }
tr.deprecated .state { color: #b45309; }
.files { padding-left: 18px; font-size: 14px; }
.checksum { word-break: break-all; }
.lists { color: #4a5163; }
`;
