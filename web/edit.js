/*
 * Editing an artifact's metadata from the detail panel:
 * PUT /api/v1/artifacts/{id}/metadata with If-Match: the revision the form
 * was filled from. Only the fields the user changed are sent. A 409 means the
 * artifact changed meanwhile (another tab, the CLI, a hand edit of the file):
 * the page shows what changed and lets the user reload or overwrite.
 */
'use strict';

(function () {
	const SM = window.SkillMeat;
	const { el, clear, setContent, api, errorBox, splitList } = SM;

	const FIELDS = [
		{ key: 'title', label: 'Title' },
		{ key: 'description', label: 'Description', area: true },
		{ key: 'author', label: 'Author' },
		{ key: 'license', label: 'License' },
		{ key: 'version', label: 'Version' },
		{ key: 'tags', label: 'Tags', list: true },
		{ key: 'tools', label: 'Tools', list: true },
	];

	/* The editable values of an artifact as the API shows them. */
	function valuesOf(a) {
		const m = a.metadata && typeof a.metadata === 'object' ? a.metadata : {};
		const pick = (...xs) => {
			for (const x of xs)
				if (x !== null && x !== undefined)
					return x;
			return null;
		};
		const arr = (x) => (Array.isArray(x) ? x.map(String) : []);
		return {
			title: pick(m.title) || '',
			description: pick(m.description, a.description) || '',
			author: pick(m.author, a.author) || '',
			license: pick(m.license) || '',
			version: pick(m.version, a.version) || '',
			tags: arr(a.tags),
			tools: arr(pick(m.tools, a.tools)),
		};
	}

	function same(f, x, y) {
		return f.list ? JSON.stringify(x) === JSON.stringify(y) : String(x) === String(y);
	}

	function shown(f, v) {
		if (f.list)
			return v.length ? v.join(', ') : '(none)';
		return v === '' ? '(empty)' : v;
	}

	const edit = {
		base: null, /* the values and revision the form was filled from */
		form: null,
	};

	function inputs() {
		const out = {};
		for (const f of FIELDS) {
			const node = document.getElementById('edit-' + f.key);
			out[f.key] = f.list ? splitList(node.value) : node.value.trim();
		}
		return out;
	}

	function changedFields(mine) {
		return FIELDS.filter((f) => !same(f, mine[f.key], edit.base.values[f.key]));
	}

	function fill(a) {
		const v = valuesOf(a);
		edit.base = { values: v, revision: a.revision, id: a.id };
		for (const f of FIELDS) {
			const node = document.getElementById('edit-' + f.key);
			node.value = f.list ? v[f.key].join(', ') : v[f.key];
		}
	}

	function buildForm(a) {
		const status = el('div', { id: 'edit-status', class: 'status', role: 'status', 'aria-live': 'polite' });
		const conflict = el('div', { id: 'edit-conflict' });
		const form = el('form', { id: 'edit-form', class: 'edit-form', novalidate: true,
			'aria-labelledby': 'edit-heading' },
		el('h3', { id: 'edit-heading' }, 'Edit metadata'),
		FIELDS.map((f) => el('div', { class: 'field' },
			el('label', { for: 'edit-' + f.key }, f.label + (f.list ? ' (comma separated)' : '')),
			f.area
				? el('textarea', { id: 'edit-' + f.key, rows: '4', spellcheck: 'true' })
				: el('input', { id: 'edit-' + f.key, autocomplete: 'off', spellcheck: 'false' }))),
		el('p', { class: 'hint' }, 'Saved to the artifact\'s own file (frontmatter) and to the collection manifest.'),
		conflict, status,
		el('div', { class: 'dialog-buttons' },
			el('button', { type: 'button', class: 'ghost', id: 'edit-cancel', onclick: closeForm }, 'Cancel'),
			el('button', { type: 'submit', class: 'primary', id: 'edit-save' }, 'Save')));
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			save(null);
		});
		form.addEventListener('keydown', (ev) => {
			if (ev.key === 'Escape') {
				ev.preventDefault();
				closeForm();
			}
		});
		edit.form = form;
		return form;
	}

	function openForm(a) {
		if (edit.form && document.contains(edit.form)) {
			document.getElementById('edit-description').focus();
			return;
		}
		const form = buildForm(a);
		clear(SM.ui.detailStatus); /* an old "Saved." */
		setContent(document.getElementById('detail-edit'), form);
		fill(a);
		const btn = document.getElementById('edit-button');
		if (btn)
			btn.setAttribute('aria-expanded', 'true');
		document.getElementById('edit-description').focus();
	}

	function closeForm() {
		if (edit.form && edit.form.parentNode)
			edit.form.parentNode.removeChild(edit.form);
		edit.form = null;
		edit.base = null;
		const btn = document.getElementById('edit-button');
		if (btn) {
			btn.setAttribute('aria-expanded', 'false');
			btn.focus();
		}
	}

	/* Save the changed fields; revision: If-Match (null = the form's base). */
	async function save(revision) {
		const status = document.getElementById('edit-status');
		const mine = inputs();
		const changed = changedFields(mine);
		if (!changed.length) {
			setContent(status, 'Nothing changed.');
			return;
		}
		const body = {};
		for (const f of changed)
			body[f.key] = mine[f.key];
		const rev = revision || edit.base.revision;
		const save = document.getElementById('edit-save');
		save.disabled = true;
		clear(SM.ui.detailStatus);
		setContent(status, el('span', { class: 'loading' }, 'Saving'));
		let res;
		const id = edit.base.id;
		try {
			res = await api(`/artifacts/${encodeURIComponent(id)}/metadata`, null, null, {
				method: 'PUT',
				body,
				headers: rev ? { 'If-Match': `"${rev}"` } : {},
			});
		} catch (e) {
			save.disabled = false;
			if (e.status === 409) {
				clear(status);
				showConflict(mine, changed, e);
				return;
			}
			setContent(status, errorBox(e));
			return;
		}
		edit.form = null;
		edit.base = null;
		clear(document.getElementById('detail-edit'));
		SM.artifactChanged(res, 'Saved.');
		const btn = document.getElementById('edit-button');
		if (btn)
			btn.focus();
	}

	async function showConflict(mine, changed, err) {
		const box = document.getElementById('edit-conflict');
		setContent(box, el('span', { class: 'loading' }, 'Someone else changed this artifact; loading their version'));
		let cur;
		try {
			cur = await api(`/artifacts/${encodeURIComponent(edit.base.id)}`);
		} catch (e) {
			setContent(box, errorBox(e));
			return;
		}
		if (!edit.form)
			return;
		const theirs = valuesOf(cur);
		const diff = FIELDS.filter((f) => !same(f, theirs[f.key], edit.base.values[f.key]));
		const d = err.body && err.body.detail && typeof err.body.detail === 'object' ? err.body.detail : {};
		/* the server's word (it re-read the files) before the GET's row */
		const rev = d.current_revision || cur.revision;
		const onlyMine = changed.filter((f) => !diff.includes(f));
		setContent(box, el('div', { class: 'conflict', role: 'alert', id: 'conflict' },
			el('p', null, el('strong', null, 'Not saved: this artifact changed since you opened the form'),
				' (409 conflict).'),
			diff.length
				? el('dl', { class: 'conflict-diff' }, diff.map((f) => [
					el('dt', null, f.label),
					el('dd', null,
						el('span', { class: 'was' }, 'was ', el('q', null, shown(f, edit.base.values[f.key]))),
						' ', el('span', { class: 'now' }, 'now ', el('q', null, shown(f, theirs[f.key]))),
						changed.includes(f) ? el('span', { class: 'yours' }, ' · yours ',
							el('q', null, shown(f, mine[f.key]))) : null),
				]))
				: el('p', null, 'Its files changed, but none of these fields.'),
			onlyMine.length
				? el('div', { class: 'conflict-mine' }, el('p', null, 'Your edits:'),
					el('dl', { class: 'conflict-diff' }, onlyMine.map((f) => [
						el('dt', null, f.label),
						el('dd', null, el('span', { class: 'yours' }, 'yours ',
							el('q', null, shown(f, mine[f.key])))),
					])))
				: null,
			el('div', { class: 'dialog-buttons' },
				el('button', { type: 'button', class: 'ghost', id: 'conflict-reload', onclick: () => {
					clear(box);
					fill(cur);
					SM.renderDetail(cur);
				} }, 'Reload (discard my edits)'),
				el('button', { type: 'button', class: 'danger', id: 'conflict-overwrite', onclick: () => {
					clear(box);
					save(rev);
				} }, 'Overwrite with my edits'))));
		document.getElementById('conflict-reload').focus();
	}

	/*
	 * The form lives in #detail-edit, which renderDetail does not rebuild: an
	 * open form (and the user's input) stays while the same artifact is shown.
	 */
	SM.detailActions.push((a) => {
		const open = edit.form && document.contains(edit.form) && edit.base && edit.base.id === a.id;
		if (!open) {
			edit.form = null;
			edit.base = null;
			clear(document.getElementById('detail-edit'));
		}
		return el('button', {
			type: 'button',
			class: 'primary',
			id: 'edit-button',
			'aria-expanded': open ? 'true' : 'false',
			'aria-controls': 'edit-form',
			onclick: () => openForm(a),
		}, 'Edit');
	});
})();
