/*
 * SkillMeat web page: user collections and their artifacts, read-only, from
 * the REST API (/api/v1). Plain ES2017, no libraries. Every piece of API text
 * reaches the page through text nodes (el() below), never through innerHTML.
 */
'use strict';

(function () {
	const API = 'api/v1';
	const PAGE = 24;
	const COLLECTION_PAGE = 100;
	const DEBOUNCE_MS = 250;
	const TOKEN_KEY = 'skillmeat.token';

	const $ = (id) => document.getElementById(id);

	const ui = {
		layout: document.querySelector('.layout'),
		collections: $('collections'),
		collectionsStatus: $('collections-status'),
		collectionsMore: $('collections-more'),
		title: $('collection-title'),
		description: $('collection-description'),
		search: $('search'),
		type: $('type'),
		filters: $('filters'),
		status: $('artifacts-status'),
		list: $('artifact-list'),
		more: $('load-more'),
		detail: $('detail'),
		detailTitle: $('detail-title'),
		detailStatus: $('detail-status'),
		detailBody: $('detail-body'),
		detailClose: $('detail-close'),
		tokenForm: $('token-form'),
		tokenInput: $('token-input'),
		tokenButton: $('token-button'),
	};

	const state = {
		collections: [],
		collectionsCursor: null,
		collectionsHasNext: false,
		selected: null,
		items: [],
		cursor: null,
		hasNext: false,
		total: null,
		artifactsCtl: null,
		detailCtl: null,
		detailId: null,
		opener: null,
		pendingArtifact: null, /* from the hash at load, opened after the first page */
	};

	/* DOM helpers: strings always become text nodes. */
	function el(tag, attrs, ...children) {
		const node = document.createElement(tag);
		if (attrs) {
			for (const [k, v] of Object.entries(attrs)) {
				if (v === null || v === undefined || v === false)
					continue;
				if (k === 'class')
					node.className = v;
				else if (k === 'text')
					node.textContent = v;
				else if (k.startsWith('on'))
					node.addEventListener(k.slice(2), v);
				else
					node.setAttribute(k, v === true ? '' : String(v));
			}
		}
		append(node, children);
		return node;
	}

	function append(node, children) {
		for (const c of children) {
			if (c === null || c === undefined || c === false)
				continue;
			if (Array.isArray(c))
				append(node, c);
			else if (c instanceof Node)
				node.appendChild(c);
			else
				node.appendChild(document.createTextNode(String(c)));
		}
	}

	function clear(node) {
		while (node.firstChild)
			node.removeChild(node.firstChild);
	}

	function setContent(node, ...children) {
		clear(node);
		append(node, children);
	}

	/* API access */
	class ApiError extends Error {
		constructor(status, detail) {
			super(status ? `API error ${status}: ${detail}` : `Network error: ${detail}`);
			this.status = status;
		}
	}

	function getToken() {
		try {
			return sessionStorage.getItem(TOKEN_KEY) || '';
		} catch (e) {
			return '';
		}
	}

	function setToken(tok) {
		try {
			if (tok)
				sessionStorage.setItem(TOKEN_KEY, tok);
			else
				sessionStorage.removeItem(TOKEN_KEY);
		} catch (e) {
			/* storage disabled: the token lasts until the next load */
		}
		memoryToken = tok;
	}

	let memoryToken = getToken();

	/* The text of an error body: {"detail": str | [{loc, msg}] | {message}} or the 429 shape. */
	function detailText(body, text, fallback) {
		if (body && typeof body === 'object' && 'detail' in body) {
			const d = body.detail;
			if (typeof d === 'string')
				return d;
			if (Array.isArray(d))
				return d.map((x) => {
					if (x && typeof x === 'object') {
						const loc = Array.isArray(x.loc) ? x.loc.join('.') + ': ' : '';
						return loc + (x.msg || JSON.stringify(x));
					}
					return String(x);
				}).join('; ');
			if (d && typeof d === 'object')
				return d.message || d.error || JSON.stringify(d);
			return JSON.stringify(d);
		}
		if (body && typeof body === 'object' && body.message)
			return String(body.message);
		if (text)
			return text.length > 200 ? text.slice(0, 200) + '…' : text;
		return fallback || 'no details';
	}

	async function api(path, params, signal) {
		const url = new URL(API + path, document.baseURI);
		for (const [k, v] of Object.entries(params || {}))
			if (v !== '' && v !== null && v !== undefined)
				url.searchParams.set(k, String(v));
		const headers = { Accept: 'application/json' };
		if (memoryToken)
			headers.Authorization = 'Bearer ' + memoryToken;
		let res;
		try {
			res = await fetch(url.toString(), { headers, signal, credentials: 'same-origin' });
		} catch (e) {
			if (e && e.name === 'AbortError')
				throw e;
			throw new ApiError(0, 'cannot reach the API (' + (e && e.message ? e.message : e) + ')');
		}
		const text = await res.text();
		let body = null;
		if (text) {
			try {
				body = JSON.parse(text);
			} catch (e) {
				body = null;
			}
		}
		if (!res.ok) {
			if (res.status === 401)
				askToken();
			throw new ApiError(res.status, detailText(body, text, res.statusText));
		}
		if (body === null || typeof body !== 'object')
			throw new ApiError(res.status, 'the response is not a JSON object');
		return body;
	}

	function isAbort(e) {
		return e && e.name === 'AbortError';
	}

	function errorBox(err, retry) {
		return el('div', { class: 'error', role: 'alert' },
			err && err.message ? err.message : String(err),
			retry ? el('button', { type: 'button', onclick: retry }, 'Retry') : null);
	}

	/* token */
	function askToken() {
		ui.tokenForm.hidden = false;
		ui.tokenButton.hidden = true;
	}

	ui.tokenForm.addEventListener('submit', (ev) => {
		ev.preventDefault();
		setToken(ui.tokenInput.value.trim());
		ui.tokenInput.value = '';
		ui.tokenForm.hidden = true;
		ui.tokenButton.hidden = !memoryToken;
		loadCollections(true);
	});

	ui.tokenButton.addEventListener('click', () => {
		askToken();
		ui.tokenInput.focus();
	});

	/* location hash: #collection=<id>&search=<text>&type=<type>&artifact=<id> */
	function readHash() {
		const p = new URLSearchParams(location.hash.replace(/^#/, ''));
		return {
			collection: p.get('collection'),
			search: p.get('search'),
			type: p.get('type'),
			artifact: p.get('artifact'),
		};
	}

	function writeHash() {
		const p = new URLSearchParams();
		if (state.selected)
			p.set('collection', state.selected.id);
		if (ui.search.value.trim())
			p.set('search', ui.search.value.trim());
		if (ui.type.value)
			p.set('type', ui.type.value);
		if (state.detailId)
			p.set('artifact', state.detailId);
		const h = p.toString();
		try {
			history.replaceState(null, '', h ? '#' + h : location.pathname + location.search);
		} catch (e) {
			/* a sandboxed page may refuse; the hash is only a convenience */
		}
	}

	/* collections */
	function isDefault(c) {
		return c.collection_type === 'default' || c.name === 'Default Collection';
	}

	function sortCollections(list) {
		return list.slice().sort((a, b) => {
			const da = isDefault(a), db = isDefault(b);
			if (da !== db)
				return da ? -1 : 1;
			return String(a.name).localeCompare(String(b.name), undefined, { sensitivity: 'base' });
		});
	}

	function countText(n) {
		return n === null || n === undefined ? '–' : String(n);
	}

	function renderCollections() {
		clear(ui.collections);
		for (const c of state.collections) {
			const current = state.selected && state.selected.id === c.id;
			const count = c.artifact_count;
			const label = count === null || count === undefined ? 'count unknown'
				: count === 1 ? '1 artifact' : `${count} artifacts`;
			ui.collections.appendChild(el('li', null,
				el('button', {
					type: 'button',
					class: 'collection',
					'data-id': c.id,
					'aria-current': current ? 'true' : null,
					title: c.description || null,
					onclick: () => selectCollection(c, true),
				},
				el('span', { class: 'cname' }, c.name),
				el('span', { class: 'badge' },
					el('span', { 'aria-hidden': 'true' }, countText(count)),
					el('span', { class: 'sr' }, label)))));
		}
		ui.collectionsMore.hidden = !state.collectionsHasNext;
	}

	async function loadCollections(reset) {
		if (reset) {
			state.collections = [];
			state.collectionsCursor = null;
		}
		ui.collectionsMore.disabled = true;
		setContent(ui.collectionsStatus, el('span', { class: 'loading' }, 'Loading collections'));
		let data;
		try {
			data = await api('/user-collections',
				{ limit: COLLECTION_PAGE, after: state.collectionsCursor });
		} catch (e) {
			ui.collectionsMore.disabled = false;
			setContent(ui.collectionsStatus, errorBox(e, () => loadCollections(reset)));
			if (!state.selected)
				showNoCollection('The collections could not be loaded.');
			return;
		}
		ui.collectionsMore.disabled = false;
		const items = Array.isArray(data.items) ? data.items : [];
		const info = data.page_info || {};
		state.collections = sortCollections(state.collections.concat(items));
		state.collectionsCursor = info.end_cursor || null;
		state.collectionsHasNext = !!info.has_next_page && !!info.end_cursor;
		clear(ui.collectionsStatus);
		if (!state.collections.length) {
			setContent(ui.collectionsStatus, el('p', { class: 'empty' },
				'No collections yet. Create one with ',
				el('code', null, 'skillmeat user-collection create NAME'), '.'));
			showNoCollection('There is no collection to show.');
			renderCollections();
			return;
		}
		if (!state.selected || !state.collections.some((c) => c.id === state.selected.id)) {
			const wanted = readHash().collection;
			const pick = state.collections.find((c) => c.id === wanted) || state.collections[0];
			selectCollection(pick, false);
		} else {
			state.selected = state.collections.find((c) => c.id === state.selected.id);
			renderCollections();
		}
	}

	function showNoCollection(msg) {
		state.selected = null;
		ui.title.textContent = 'Artifacts';
		ui.description.textContent = '';
		clear(ui.list);
		ui.more.hidden = true;
		setContent(ui.status, msg);
	}

	function selectCollection(c, byUser) {
		state.selected = c;
		renderCollections();
		ui.title.textContent = c.name;
		ui.description.textContent = c.description || '';
		document.title = `${c.name} · SkillMeat`;
		writeHash();
		loadArtifacts(true);
		if (byUser && window.matchMedia('(max-width: 720px)').matches)
			ui.search.scrollIntoView({ block: 'start' });
	}

	ui.collectionsMore.addEventListener('click', () => loadCollections(false));

	/* Up/Down move between collections. */
	ui.collections.addEventListener('keydown', (ev) => {
		if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp')
			return;
		const buttons = Array.from(ui.collections.querySelectorAll('button'));
		const i = buttons.indexOf(document.activeElement);
		if (i < 0)
			return;
		const j = ev.key === 'ArrowDown' ? Math.min(i + 1, buttons.length - 1) : Math.max(i - 1, 0);
		buttons[j].focus();
		ev.preventDefault();
	});

	/* artifacts */
	function filtersActive() {
		return ui.search.value.trim() !== '' || ui.type.value !== '';
	}

	function renderCard(a) {
		const tags = Array.isArray(a.tags) ? a.tags : [];
		return el('li', null,
			el('button', {
				type: 'button',
				class: 'card',
				'data-id': a.id,
				'aria-current': state.detailId === a.id ? 'true' : null,
				onclick: (ev) => openDetail(a.id, ev.currentTarget),
			},
			el('span', { class: 'card-head' },
				el('span', { class: 'card-name' }, a.name || a.id),
				el('span', { class: 'chip' }, a.type || '?')),
			el('span', { class: 'desc' }, a.description || ''),
			tags.length ? el('span', { class: 'tags' },
				tags.map((t) => el('span', { class: 'tag' }, t))) : null));
	}

	function renderArtifactStatus() {
		const n = state.items.length;
		if (!n) {
			if (filtersActive())
				setContent(ui.status, el('div', { class: 'empty' },
					'No artifacts match these filters. ',
					el('button', { type: 'button', class: 'ghost', onclick: clearFilters },
						'Clear filters')));
			else
				setContent(ui.status, el('div', { class: 'empty' },
					'This collection has no artifacts yet.'));
			return;
		}
		const noun = (k) => (k === 1 ? 'artifact' : 'artifacts');
		if (state.total !== null && state.total !== undefined)
			setContent(ui.status, `Showing ${n} of ${state.total} ${noun(state.total)}`);
		else
			setContent(ui.status, `Showing ${n} ${noun(n)}`);
	}

	async function loadArtifacts(reset) {
		const c = state.selected;
		if (!c)
			return;
		if (state.artifactsCtl)
			state.artifactsCtl.abort();
		const ctl = new AbortController();
		state.artifactsCtl = ctl;
		if (reset) {
			state.items = [];
			state.cursor = null;
			state.hasNext = false;
			state.total = null;
			clear(ui.list);
			ui.more.hidden = true;
		}
		ui.more.disabled = true;
		writeHash();
		setContent(ui.status, el('span', { class: 'loading' }, reset ? 'Loading artifacts' : 'Loading more'));
		let data;
		try {
			data = await api(`/user-collections/${encodeURIComponent(c.id)}/artifacts`, {
				limit: PAGE,
				search: ui.search.value.trim(),
				artifact_type: ui.type.value,
				after: reset ? null : state.cursor,
			}, ctl.signal);
		} catch (e) {
			if (isAbort(e) || ctl !== state.artifactsCtl)
				return;
			ui.more.disabled = false;
			setContent(ui.status, errorBox(e, () => loadArtifacts(reset)));
			return;
		}
		if (ctl !== state.artifactsCtl)
			return;
		state.artifactsCtl = null;
		const items = Array.isArray(data.items) ? data.items : [];
		const info = data.page_info || {};
		state.items = state.items.concat(items);
		state.cursor = info.end_cursor || null;
		state.hasNext = !!info.has_next_page && !!state.cursor;
		state.total = typeof info.total_count === 'number' ? info.total_count : null;
		const first = ui.list.children.length;
		for (const a of items)
			ui.list.appendChild(renderCard(a));
		ui.more.hidden = !state.hasNext;
		ui.more.disabled = false;
		renderArtifactStatus();
		/* keep keyboard users in place: focus the first new card after "Load more" */
		if (!reset && document.activeElement === ui.more && ui.list.children[first])
			ui.list.children[first].querySelector('button').focus();
		if (state.pendingArtifact) {
			const wanted = state.pendingArtifact;
			state.pendingArtifact = null;
			openDetail(wanted, null);
		}
	}

	function clearFilters() {
		ui.search.value = '';
		ui.type.value = '';
		loadArtifacts(true);
		ui.search.focus();
	}

	let debounce = null;
	ui.search.addEventListener('input', () => {
		clearTimeout(debounce);
		debounce = setTimeout(() => loadArtifacts(true), DEBOUNCE_MS);
	});
	ui.type.addEventListener('change', () => loadArtifacts(true));
	ui.filters.addEventListener('submit', (ev) => {
		ev.preventDefault();
		clearTimeout(debounce);
		loadArtifacts(true);
	});
	ui.more.addEventListener('click', () => loadArtifacts(false));

	/* detail panel */
	function markCurrentCard() {
		for (const b of ui.list.querySelectorAll('button.card')) {
			if (b.getAttribute('data-id') === state.detailId)
				b.setAttribute('aria-current', 'true');
			else
				b.removeAttribute('aria-current');
		}
	}

	function value(v) {
		if (v === null || v === undefined || v === '')
			return el('span', { class: 'muted' }, '—');
		if (typeof v === 'boolean')
			return v ? 'yes' : 'no';
		if (typeof v === 'object')
			return el('span', { class: 'mono' }, JSON.stringify(v));
		return String(v);
	}

	function rows(pairs) {
		const dl = el('dl');
		for (const [k, v, cls] of pairs) {
			dl.appendChild(el('dt', null, k));
			const empty = v === null || v === undefined || v === '';
			dl.appendChild(el('dd', { class: (!empty && cls) || null }, v instanceof Node ? v : value(v)));
		}
		return dl;
	}

	function section(title, ...body) {
		return el('section', null, el('h3', null, title), body);
	}

	function list(items, cls) {
		if (!items.length)
			return el('span', { class: 'muted' }, 'none');
		return el('span', { class: 'tags' }, items.map((t) => el('span', { class: cls }, t)));
	}

	/* An http(s) link for the source, or null. */
	function sourceUrl(a) {
		const s = typeof a.source === 'string' ? a.source : '';
		if (/^https?:\/\//i.test(s))
			return s;
		const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)(\/|@|$)/.exec(s);
		if (a.origin === 'github' && m)
			return `https://github.com/${m[1]}/${m[2]}`;
		return null;
	}

	function link(url, text) {
		const a = el('a', { target: '_blank', rel: 'noopener noreferrer' }, text);
		a.href = url; /* only http(s) reaches here */
		return a;
	}

	const SHOWN = new Set(['id', 'uuid', 'name', 'type', 'source', 'origin', 'origin_source',
		'version', 'tags', 'metadata', 'upstream', 'collections', 'added', 'updated',
		'collection', 'path', 'content_hash', 'locally_modified', 'revision', 'owner_type',
		'visibility', 'description', 'author', 'tools']);

	function renderDetail(a) {
		const meta = a.metadata && typeof a.metadata === 'object' ? a.metadata : {};
		const up = a.upstream && typeof a.upstream === 'object' ? a.upstream : {};
		const tags = Array.isArray(a.tags) ? a.tags : [];
		const tools = Array.isArray(meta.tools) ? meta.tools : Array.isArray(a.tools) ? a.tools : [];
		const url = sourceUrl(a);
		const description = meta.description || a.description;
		const collections = Array.isArray(a.collections) ? a.collections : [];
		const modified = a.locally_modified === true || up.has_local_modifications === true;

		ui.detailTitle.textContent = a.name || a.id;
		const other = Object.keys(a).filter((k) => !SHOWN.has(k)).sort();

		setContent(ui.detailBody,
			el('p', null,
				el('span', { class: 'chip' }, a.type || '?'), ' ',
				modified ? el('span', { class: 'flag' }, 'locally modified')
					: el('span', { class: 'flag ok' }, 'unmodified')),
			description ? el('p', null, description) : el('p', { class: 'muted' }, 'No description.'),
			section('Tags', list(tags, 'tag')),
			section('Tools', list(tools, 'chip')),
			section('Metadata', rows([
				['id', a.id, 'mono'],
				['title', meta.title],
				['author', meta.author || a.author],
				['license', meta.license],
				['version', meta.version || a.version],
				['collection', a.collection],
				['path', a.path, 'mono'],
				['added', a.added],
				['updated', a.updated],
				['uuid', a.uuid, 'mono'],
			])),
			section('Source', rows([
				['source', url ? link(url, a.source) : a.source],
				['origin', a.origin],
				['origin source', a.origin_source],
				['tracking', up.tracking_enabled],
				['current sha', up.current_sha, 'mono'],
				['upstream sha', up.upstream_sha, 'mono'],
				['update available', up.update_available],
				['drift', up.drift_status],
			])),
			section('Content', rows([
				['content hash', a.content_hash, 'mono'],
				['locally modified', modified],
				['revision', a.revision, 'mono'],
			])),
			section('In collections', collections.length
				? el('ul', { class: 'tags' }, collections.map((c) =>
					el('li', { class: 'tag' }, `${c.name} (${countText(c.artifact_count)})`)))
				: el('span', { class: 'muted' }, 'none')),
			other.length ? section('Other fields', rows(other.map((k) => [k, a[k]]))) : null,
			el('details', null, el('summary', null, 'Raw JSON'),
				el('pre', null, JSON.stringify(a, null, 2))));
	}

	async function openDetail(id, opener) {
		if (state.detailCtl)
			state.detailCtl.abort();
		const ctl = new AbortController();
		state.detailCtl = ctl;
		state.detailId = id;
		if (opener)
			state.opener = opener;
		ui.detail.hidden = false;
		ui.layout.classList.add('with-detail');
		ui.detailTitle.textContent = id;
		clear(ui.detailBody);
		setContent(ui.detailStatus, el('span', { class: 'loading' }, 'Loading'));
		markCurrentCard();
		writeHash();
		if (opener)
			ui.detailTitle.focus();
		let data;
		try {
			data = await api(`/artifacts/${encodeURIComponent(id)}`, null, ctl.signal);
		} catch (e) {
			if (isAbort(e) || ctl !== state.detailCtl)
				return;
			setContent(ui.detailStatus, errorBox(e, () => openDetail(id, null)));
			return;
		}
		if (ctl !== state.detailCtl)
			return;
		state.detailCtl = null;
		clear(ui.detailStatus);
		renderDetail(data);
	}

	function closeDetail() {
		if (ui.detail.hidden)
			return;
		if (state.detailCtl)
			state.detailCtl.abort();
		state.detailCtl = null;
		state.detailId = null;
		ui.detail.hidden = true;
		ui.layout.classList.remove('with-detail');
		markCurrentCard();
		writeHash();
		const back = state.opener;
		state.opener = null;
		if (back && document.contains(back))
			back.focus();
	}

	ui.detailClose.addEventListener('click', closeDetail);

	document.addEventListener('keydown', (ev) => {
		if (ev.key === 'Escape' && !ui.detail.hidden) {
			closeDetail();
			ev.preventDefault();
			return;
		}
		/* "/" jumps to the search box, as on many sites */
		const t = ev.target;
		const typing = t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA');
		if (ev.key === '/' && !typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
			ui.search.focus();
			ev.preventDefault();
		}
	});

	const initial = readHash();
	if (initial.search)
		ui.search.value = initial.search;
	if (initial.type && Array.from(ui.type.options).some((o) => o.value === initial.type))
		ui.type.value = initial.type;
	state.pendingArtifact = initial.artifact;
	ui.tokenButton.hidden = !memoryToken;
	loadCollections(true);
})();
