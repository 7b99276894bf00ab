/*
 * SkillMeat web page: user collections and their artifacts from the REST API
 * (/api/v1): browse, filter, sort, add, delete; content.js shows an
 * artifact's files, edit.js edits its metadata. Plain ES2017, no libraries.
 * Every piece of API text reaches the page through text nodes (el() below),
 * never through innerHTML: artifact files are hostile input.
 *
 * The other scripts hook in through window.SkillMeat (SM below):
 *   SM.detailActions.push(fn(artifact) -> Node|null)   buttons of the detail
 *   SM.detailSections.push(fn(artifact) -> Node|null)  sections of the detail
 * They are loaded with defer after this file and registered before the page
 * starts (DOMContentLoaded).
 */
'use strict';

(function () {
	const API = 'api/v1';
	const PAGE_SIZES = [24, 48, 96];
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
		tag: $('tag'),
		sort: $('sort'),
		pageSize: $('page-size'),
		filters: $('filters'),
		status: $('artifacts-status'),
		list: $('artifact-list'),
		more: $('load-more'),
		detail: $('detail'),
		detailTitle: $('detail-title'),
		detailStatus: $('detail-status'),
		detailActions: $('detail-actions'),
		detailBody: $('detail-body'),
		detailClose: $('detail-close'),
		tokenForm: $('token-form'),
		tokenMessage: $('token-message'),
		tokenInput: $('token-input'),
		tokenButton: $('token-button'),
		addButton: $('add-button'),
		addDialog: $('add-dialog'),
		addForm: $('add-form'),
		addSource: $('add-source'),
		addType: $('add-type'),
		addName: $('add-name'),
		addTags: $('add-tags'),
		addStatus: $('add-status'),
		addSubmit: $('add-submit'),
		addCancel: $('add-cancel'),
		confirmDialog: $('confirm-dialog'),
		confirmTitle: $('confirm-title'),
		confirmText: $('confirm-text'),
		confirmStatus: $('confirm-status'),
		confirmOk: $('confirm-ok'),
		confirmCancel: $('confirm-cancel'),
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
		detail: null, /* the artifact shown in the detail panel */
		opener: null,
		pendingArtifact: null, /* from the hash at load, opened after the first page */
		notice: '', /* said once in the status line after the next list load */
	};

	/* ---- DOM helpers: strings always become text nodes ---- */
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

	/* ---- API access ---- */
	class ApiError extends Error {
		constructor(status, detail, body) {
			super(status ? `API error ${status}: ${detail}` : `Network error: ${detail}`);
			this.status = status;
			this.body = body;
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

	/*
	 * One API call. opts: {method, body (sent as JSON), headers, signal}.
	 * The parsed JSON object ({} for 204); ApiError (with .status, .body)
	 * otherwise.
	 */
	async function api(path, params, signal, opts) {
		const o = opts || {};
		const url = new URL(API + path, document.baseURI);
		for (const [k, v] of Object.entries(params || {}))
			if (v !== '' && v !== null && v !== undefined)
				url.searchParams.set(k, String(v));
		const headers = Object.assign({ Accept: 'application/json' }, o.headers || {});
		if (memoryToken)
			headers.Authorization = 'Bearer ' + memoryToken;
		const init = { method: o.method || 'GET', headers, signal, credentials: 'same-origin' };
		if (o.body !== undefined) {
			headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(o.body);
		}
		let res;
		try {
			res = await fetch(url.toString(), init);
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
				askToken(true);
			throw new ApiError(res.status, detailText(body, text, res.statusText), body);
		}
		if (res.status === 204 || (!text && o.method && o.method !== 'GET'))
			return {};
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

	/* ---- token ---- */
	function askToken(refused) {
		ui.tokenMessage.textContent = memoryToken && refused
			? 'The server refused this API token (401). Enter the token the server was started with (SKILLMEAT_API_TOKEN).'
			: 'This server needs an API token (401). Enter the token it was started with (SKILLMEAT_API_TOKEN).';
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
		askToken(false);
		ui.tokenInput.focus();
	});

	/* ---- location hash: #collection=&search=&type=&tag=&sort=&limit=&artifact= ---- */
	function readHash() {
		const p = new URLSearchParams(location.hash.replace(/^#/, ''));
		return {
			collection: p.get('collection'),
			search: p.get('search'),
			type: p.get('type'),
			tag: p.get('tag'),
			sort: p.get('sort'),
			limit: p.get('limit'),
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
		if (ui.tag.value.trim())
			p.set('tag', ui.tag.value.trim());
		if (ui.sort.value !== 'name')
			p.set('sort', ui.sort.value);
		if (ui.pageSize.value !== String(PAGE_SIZES[0]))
			p.set('limit', ui.pageSize.value);
		if (state.detailId)
			p.set('artifact', state.detailId);
		const h = p.toString();
		try {
			history.replaceState(null, '', h ? '#' + h : location.pathname + location.search);
		} catch (e) {
			/* a sandboxed page may refuse; the hash is only a convenience */
		}
	}

	/* ---- collections ---- */
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

	/* ---- artifacts: list, filters, sort, page size ---- */
	function filtersActive() {
		return ui.search.value.trim() !== '' || ui.type.value !== '' || ui.tag.value.trim() !== '';
	}

	function when(iso) {
		if (!iso)
			return '';
		const d = new Date(iso);
		return isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 10);
	}

	function renderCard(a) {
		const tags = Array.isArray(a.tags) ? a.tags : [];
		const sort = ui.sort.value;
		const stamp = sort === 'added' ? a.added : sort === 'updated' ? a.updated : null;
		/* an id "collection/type:name" names its file collection: show it */
		const slash = typeof a.id === 'string' ? a.id.indexOf('/') : -1;
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
			slash > 0 ? el('span', { class: 'card-where' }, 'in ' + a.id.slice(0, slash)) : null,
			el('span', { class: 'desc' }, a.description || ''),
			stamp ? el('span', { class: 'card-when' }, `${sort} ${when(stamp)}`) : null,
			tags.length ? el('span', { class: 'tags' },
				tags.map((t) => el('span', { class: 'tag' }, t))) : null));
	}

	function renderArtifactStatus() {
		const n = state.items.length;
		const notice = state.notice ? state.notice + ' ' : '';
		state.notice = '';
		if (!n) {
			if (filtersActive())
				setContent(ui.status, el('div', { class: 'empty' }, notice,
					'No artifacts match these filters. ',
					el('button', { type: 'button', class: 'ghost', onclick: clearFilters },
						'Clear filters')));
			else
				setContent(ui.status, el('div', { class: 'empty' }, notice,
					'This collection has no artifacts yet.'));
			return;
		}
		const noun = (k) => (k === 1 ? 'artifact' : 'artifacts');
		if (state.total !== null && state.total !== undefined)
			setContent(ui.status, notice, `Showing ${n} of ${state.total} ${noun(state.total)}`);
		else
			setContent(ui.status, notice, `Showing ${n} ${noun(n)}`);
	}

	function listParams(reset) {
		return {
			limit: ui.pageSize.value,
			search: ui.search.value.trim(),
			artifact_type: ui.type.value,
			tags: ui.tag.value.trim(),
			after: reset ? null : state.cursor,
			sort: ui.sort.value,
		};
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
			data = await api(`/user-collections/${encodeURIComponent(c.id)}/artifacts`,
				listParams(reset), ctl.signal);
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
		ui.tag.value = '';
		loadArtifacts(true);
		ui.search.focus();
	}

	function filterByTag(t) {
		ui.tag.value = t;
		loadArtifacts(true);
	}

	let debounce = null;
	function typed() {
		clearTimeout(debounce);
		debounce = setTimeout(() => loadArtifacts(true), DEBOUNCE_MS);
	}
	ui.search.addEventListener('input', typed);
	ui.tag.addEventListener('input', typed);
	ui.type.addEventListener('change', () => loadArtifacts(true));
	ui.sort.addEventListener('change', () => loadArtifacts(true));
	ui.pageSize.addEventListener('change', () => loadArtifacts(true));
	ui.filters.addEventListener('submit', (ev) => {
		ev.preventDefault();
		clearTimeout(debounce);
		loadArtifacts(true);
	});
	ui.more.addEventListener('click', () => loadArtifacts(false));

	/* ---- detail panel ---- */
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

	/* Tags as buttons that filter the list by that tag. */
	function tagButtons(items) {
		if (!items.length)
			return el('span', { class: 'muted' }, 'none');
		return el('span', { class: 'tags' }, items.map((t) => el('button', {
			type: 'button',
			class: 'tag',
			title: `Show artifacts tagged ${t}`,
			onclick: () => filterByTag(t),
		}, t)));
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
		'visibility', 'description', 'author', 'tools', 'deployments']);

	/* Hooks of the other scripts (content.js, edit.js, deploy). */
	const detailActions = [];
	const detailSections = [];

	function hookNodes(hooks, a) {
		const out = [];
		for (const fn of hooks) {
			try {
				const n = fn(a);
				if (n)
					out.push(n);
			} catch (e) {
				out.push(errorBox(e));
			}
		}
		return out;
	}

	function renderDetail(a) {
		const meta = a.metadata && typeof a.metadata === 'object' ? a.metadata : {};
		const up = a.upstream && typeof a.upstream === 'object' ? a.upstream : {};
		const tags = Array.isArray(a.tags) ? a.tags : [];
		const tools = Array.isArray(meta.tools) ? meta.tools : Array.isArray(a.tools) ? a.tools : [];
		const url = sourceUrl(a);
		const description = meta.description || a.description;
		const collections = Array.isArray(a.collections) ? a.collections : [];
		const modified = a.locally_modified === true || up.has_local_modifications === true;

		state.detail = a;
		ui.detailTitle.textContent = a.name || a.id;
		const other = Object.keys(a).filter((k) => !SHOWN.has(k)).sort();

		setContent(ui.detailActions, hookNodes(detailActions, a),
			el('button', { type: 'button', class: 'danger', id: 'delete-button',
				onclick: () => confirmDelete(a) }, 'Delete'));

		setContent(ui.detailBody,
			el('p', null,
				el('span', { class: 'chip' }, a.type || '?'), ' ',
				modified ? el('span', { class: 'flag' }, 'locally modified')
					: el('span', { class: 'flag ok' }, 'unmodified')),
			description ? el('p', { class: 'detail-desc' }, description)
				: el('p', { class: 'muted' }, 'No description.'),
			section('Tags', tagButtons(tags)),
			section('Tools', list(tools, 'chip')),
			hookNodes(detailSections, a),
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
			section('Integrity', rows([
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
		state.detail = null;
		if (opener)
			state.opener = opener;
		ui.detail.hidden = false;
		ui.layout.classList.add('with-detail');
		ui.detailTitle.textContent = id;
		clear(ui.detailBody);
		clear(ui.detailActions);
		clear($('detail-edit')); /* a form of edit.js belongs to the artifact shown before */
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
		state.detail = null;
		ui.detail.hidden = true;
		ui.layout.classList.remove('with-detail');
		markCurrentCard();
		writeHash();
		const back = state.opener;
		state.opener = null;
		if (back && document.contains(back))
			back.focus();
		else
			ui.list.focus();
	}

	/* After a write: show the artifact as answered, and refresh its card and the counts. */
	function artifactChanged(a, message) {
		if (a && state.detailId === a.id) {
			renderDetail(a);
			if (message)
				setContent(ui.detailStatus, el('span', { class: 'ok' }, message));
		}
		refreshList();
	}

	/* Reload the current list and the collection counts, keeping the detail open. */
	function refreshList() {
		loadArtifacts(true);
		refreshCollections();
	}

	/* The collections again (their counts), keeping the selection and the list. */
	async function refreshCollections() {
		let data;
		try {
			data = await api('/user-collections', { limit: COLLECTION_PAGE });
		} catch (e) {
			return; /* the old counts stay; the next load tries again */
		}
		const items = Array.isArray(data.items) ? data.items : [];
		const byId = new Map(items.map((c) => [c.id, c]));
		state.collections = state.collections.map((c) => byId.get(c.id) || c);
		if (state.selected && byId.has(state.selected.id))
			state.selected = byId.get(state.selected.id);
		renderCollections();
	}

	ui.detailClose.addEventListener('click', closeDetail);

	/* ---- dialogs: add, confirm delete ---- */
	function openDialog(dialog, opener) {
		dialog.opener = opener || document.activeElement;
		if (typeof dialog.showModal === 'function')
			dialog.showModal();
		else
			dialog.setAttribute('open', '');
	}

	function closeDialog(dialog) {
		if (typeof dialog.close === 'function')
			dialog.close();
		else
			dialog.removeAttribute('open');
	}

	for (const d of [ui.addDialog, ui.confirmDialog]) {
		d.addEventListener('close', () => {
			const back = d.opener;
			d.opener = null;
			if (back && document.contains(back))
				back.focus();
		});
	}

	ui.addButton.addEventListener('click', () => {
		clear(ui.addStatus);
		ui.addSubmit.disabled = false;
		openDialog(ui.addDialog, ui.addButton);
		ui.addSource.focus();
	});
	ui.addCancel.addEventListener('click', () => closeDialog(ui.addDialog));

	function splitList(s) {
		return String(s || '').split(',').map((t) => t.trim()).filter((t) => t);
	}

	ui.addForm.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const source = ui.addSource.value.trim();
		const kind = ui.addForm.querySelector('input[name="add-kind"]:checked').value;
		if (!source) {
			setContent(ui.addStatus, el('div', { class: 'error', role: 'alert' },
				'Enter a path or a GitHub spec.'));
			ui.addSource.setAttribute('aria-invalid', 'true');
			ui.addSource.focus();
			return;
		}
		ui.addSource.removeAttribute('aria-invalid');
		const body = { source, source_type: kind, artifact_type: ui.addType.value };
		if (ui.addName.value.trim())
			body.name = ui.addName.value.trim();
		const tags = splitList(ui.addTags.value);
		if (tags.length)
			body.tags = tags;
		ui.addSubmit.disabled = true;
		setContent(ui.addStatus, el('span', { class: 'loading' },
			kind === 'github' ? 'Fetching from GitHub' : 'Adding'));
		let res;
		try {
			res = await api('/artifacts', null, null, { method: 'POST', body });
		} catch (e) {
			ui.addSubmit.disabled = false;
			setContent(ui.addStatus, errorBox(e));
			return;
		}
		ui.addSubmit.disabled = false;
		closeDialog(ui.addDialog);
		ui.addForm.reset();
		const id = res.artifact_id || `${res.artifact_type || body.artifact_type}:${res.artifact_name || ''}`;
		state.notice = `Added ${id}.`;
		refreshList();
		openDetail(id, null);
	});

	function confirmDelete(a) {
		ui.confirmTitle.textContent = `Delete ${a.id}?`;
		ui.confirmText.textContent = `This removes the files of ${a.name || a.id} from the collection ` +
			`'${a.collection || 'default'}', and its entries in the manifest, the lock file and every user collection. It cannot be undone.`;
		clear(ui.confirmStatus);
		ui.confirmOk.disabled = false;
		ui.confirmOk.onclick = () => doDelete(a);
		openDialog(ui.confirmDialog, document.getElementById('delete-button'));
		ui.confirmCancel.focus();
	}

	ui.confirmCancel.addEventListener('click', () => closeDialog(ui.confirmDialog));

	async function doDelete(a) {
		ui.confirmOk.disabled = true;
		setContent(ui.confirmStatus, el('span', { class: 'loading' }, 'Deleting'));
		try {
			await api(`/artifacts/${encodeURIComponent(a.id)}`, null, null, { method: 'DELETE' });
		} catch (e) {
			ui.confirmOk.disabled = false;
			setContent(ui.confirmStatus, errorBox(e));
			return;
		}
		ui.confirmDialog.opener = null;
		closeDialog(ui.confirmDialog);
		state.opener = null;
		closeDetail();
		state.notice = `Deleted ${a.id}.`;
		refreshList();
		ui.search.focus();
	}

	/* ---- keyboard ---- */
	document.addEventListener('keydown', (ev) => {
		const dialogOpen = ui.addDialog.open || ui.confirmDialog.open;
		if (ev.key === 'Escape' && !ui.detail.hidden && !dialogOpen && !ev.defaultPrevented) {
			closeDetail();
			ev.preventDefault();
			return;
		}
		/* "/" jumps to the search box, as on many sites */
		const t = ev.target;
		const typing = t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA');
		if (ev.key === '/' && !typing && !dialogOpen && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
			ui.search.focus();
			ev.preventDefault();
		}
	});

	/* ---- the namespace of the other scripts ---- */
	window.SkillMeat = {
		el, append, clear, setContent, api, ApiError, isAbort, errorBox, section, rows, value, list,
		splitList, detailActions, detailSections, state, ui,
		openDetail, closeDetail, renderDetail, artifactChanged, refreshList,
		openDialog, closeDialog,
	};

	function start() {
		const initial = readHash();
		if (initial.search)
			ui.search.value = initial.search;
		if (initial.type && Array.from(ui.type.options).some((o) => o.value === initial.type))
			ui.type.value = initial.type;
		if (initial.tag)
			ui.tag.value = initial.tag;
		if (initial.sort && Array.from(ui.sort.options).some((o) => o.value === initial.sort))
			ui.sort.value = initial.sort;
		if (initial.limit && PAGE_SIZES.includes(Number(initial.limit)))
			ui.pageSize.value = initial.limit;
		state.pendingArtifact = initial.artifact;
		ui.tokenButton.hidden = !memoryToken;
		ui.list.setAttribute('tabindex', '-1');
		loadCollections(true);
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
