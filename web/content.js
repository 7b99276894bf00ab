/*
 * The content of an artifact in the detail panel: its main document
 * (SKILL.md, or the agent's / command's prompt) rendered as Markdown, and
 * its file tree, each file viewable.
 *
 * The server renders Markdown with raw HTML escaped and unsafe links
 * dropped (GET /artifacts/{id}/files/{path}?format=html). The page still
 * never inserts that HTML as is: it is parsed inert (DOMParser runs no
 * script) and rebuilt from an allow-list of elements and attributes; the
 * page's CSP forbids inline script besides.
 */
'use strict';

(function () {
	const SM = window.SkillMeat;
	const { el, clear, setContent, api, errorBox, section } = SM;

	const MARKDOWN = /\.(md|markdown)$/i;

	/* ---- the allow-list sanitizer ---- */
	const BLOCK = new Set(['P', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'PRE', 'CODE', 'EM', 'STRONG',
		'DEL', 'A', 'HR', 'BR', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD', 'SPAN', 'DIV',
		'SUP', 'SUB', 'DL', 'DT', 'DD']);
	const HEADING = /^H([1-6])$/;

	function safeHref(href) {
		const h = String(href || '').trim();
		if (/^(https?:|mailto:)/i.test(h) || h.startsWith('#'))
			return h;
		/* relative links point into the artifact: not followed from here */
		return null;
	}

	function copyNode(src, out) {
		for (const n of Array.from(src.childNodes)) {
			if (n.nodeType === Node.TEXT_NODE) {
				out.appendChild(document.createTextNode(n.nodeValue));
				continue;
			}
			if (n.nodeType !== Node.ELEMENT_NODE)
				continue;
			const tag = n.tagName;
			const h = HEADING.exec(tag);
			if (h) {
				/* the panel's own headings are h2/h3: documents start below them */
				const level = Math.min(6, Number(h[1]) + 3);
				const e = el('h' + level, { class: 'md-h' + h[1] });
				copyNode(n, e);
				out.appendChild(e);
			} else if (tag === 'IMG') {
				const alt = n.getAttribute('alt');
				out.appendChild(el('span', { class: 'md-img' }, `[image${alt ? ': ' + alt : ''}]`));
			} else if (BLOCK.has(tag)) {
				const e = document.createElement(tag.toLowerCase());
				if (tag === 'A') {
					const href = safeHref(n.getAttribute('href'));
					if (href) {
						e.setAttribute('href', href);
						if (!href.startsWith('#')) {
							e.setAttribute('rel', 'noopener noreferrer');
							e.setAttribute('target', '_blank');
						}
					}
				} else if (tag === 'OL' && /^\d{1,6}$/.test(n.getAttribute('start') || '')) {
					e.setAttribute('start', n.getAttribute('start'));
				} else if (tag === 'CODE' && /^language-[\w+#.-]{1,40}$/.test(n.getAttribute('class') || '')) {
					e.setAttribute('class', n.getAttribute('class'));
				} else if (tag === 'PRE') {
					e.setAttribute('tabindex', '0'); /* scrollable: reachable by keyboard */
				}
				copyNode(n, e);
				out.appendChild(e);
			} else {
				/* anything else (script, style, iframe, svg, form...): its text only */
				if (tag !== 'SCRIPT' && tag !== 'STYLE' && tag !== 'TEMPLATE')
					copyNode(n, out);
			}
		}
		return out;
	}

	/* The server's rendered HTML as an inert, allow-listed fragment. */
	function sanitize(html) {
		const doc = new DOMParser().parseFromString(String(html), 'text/html');
		return copyNode(doc.body, document.createDocumentFragment());
	}

	/* ---- files ---- */
	function filesPath(a, path) {
		const base = `/artifacts/${encodeURIComponent(a.id)}/files`;
		if (!path)
			return base;
		return base + '/' + path.split('/').map(encodeURIComponent).join('/');
	}

	function flatten(nodes, out) {
		for (const f of nodes || []) {
			if (!f || typeof f !== 'object')
				continue;
			out.push(f);
			if (Array.isArray(f.children))
				flatten(f.children, out);
		}
		return out;
	}

	/* The document to show first: SKILL.md, else the single Markdown file, else a README. */
	function mainFile(files) {
		const all = flatten(files, []).filter((f) => f.type !== 'directory');
		const top = all.filter((f) => String(f.path).indexOf('/') < 0);
		return top.find((f) => /^skill\.md$/i.test(f.name)) ||
			(top.filter((f) => MARKDOWN.test(f.name)).length === 1
				? top.find((f) => MARKDOWN.test(f.name)) : null) ||
			top.find((f) => /^readme\.md$/i.test(f.name)) ||
			(all.length === 1 ? all[0] : null);
	}

	function size(n) {
		if (typeof n !== 'number')
			return '';
		if (n < 1024)
			return `${n} B`;
		if (n < 1024 * 1024)
			return `${(n / 1024).toFixed(1)} KB`;
		return `${(n / 1024 / 1024).toFixed(1)} MB`;
	}

	function treeList(nodes, onOpen) {
		return el('ul', { class: 'file-tree' }, (nodes || []).map((f) => {
			if (f.type === 'directory')
				return el('li', null,
					el('span', { class: 'dir' }, f.name + '/'),
					treeList(f.children, onOpen));
			return el('li', null,
				el('button', {
					type: 'button',
					class: 'file',
					'data-path': f.path,
					onclick: () => onOpen(f.path),
				}, f.name),
				' ', el('span', { class: 'muted' }, size(f.size)));
		}));
	}

	async function showFile(a, path, view, viewTitle) {
		viewTitle.textContent = path;
		setContent(view, el('span', { class: 'loading' }, 'Loading'));
		const md = MARKDOWN.test(path);
		let data;
		try {
			data = await api(filesPath(a, path), md ? { format: 'html' } : null);
		} catch (e) {
			if (SM.state.detailId !== a.id)
				return;
			if (e.status === 415)
				setContent(view, el('p', { class: 'muted' }, `${path} is a binary file; it is not shown.`));
			else if (e.status === 413)
				setContent(view, el('p', { class: 'muted' }, `${path} is too large to show here.`));
			else
				setContent(view, errorBox(e));
			return;
		}
		if (SM.state.detailId !== a.id)
			return;
		if (md && typeof data.html === 'string')
			setContent(view, el('div', { class: 'markdown' }, sanitize(data.html)));
		else
			setContent(view, el('pre', { class: 'file-text', tabindex: '0' },
				typeof data.content === 'string' ? data.content : ''));
	}

	async function loadContent(a, box) {
		let data;
		try {
			data = await api(filesPath(a, null));
		} catch (e) {
			if (SM.state.detailId === a.id)
				setContent(box, errorBox(e, () => loadContent(a, box)));
			return;
		}
		if (SM.state.detailId !== a.id)
			return;
		const files = Array.isArray(data.files) ? data.files : [];
		const viewTitle = el('h4', { class: 'file-title', id: 'content-file' }, '');
		const view = el('article', { class: 'file-view', 'aria-labelledby': 'content-file' });
		const open = (p) => showFile(a, p, view, viewTitle);
		const first = mainFile(files);
		setContent(box,
			first ? null : el('p', { class: 'muted' }, 'No document to show.'),
			viewTitle, view,
			el('details', { class: 'files' },
				el('summary', null, `Files (${flatten(files, []).filter((f) => f.type !== 'directory').length})`),
				treeList(files, open)));
		if (first)
			open(first.path);
		else
			viewTitle.hidden = true;
	}

	SM.detailSections.push((a) => {
		const box = el('div', { class: 'content', id: 'content' },
			el('span', { class: 'loading' }, 'Loading content'));
		loadContent(a, box);
		return section('Content', box);
	});

	SM.sanitize = sanitize;
})();
