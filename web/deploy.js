/* SPDX-License-Identifier: MIT */
/*
 * The deployments part of the detail panel, kept apart from app.js: where the
 * shown artifact is deployed (project, profile, status) and a form to deploy
 * or undeploy it (project path + profile), with the result shown. It watches
 * the detail panel and adds its section whenever an artifact is shown; the
 * artifact is the one named by "artifact=" in the page's hash (app.js writes it).
 */
(function () {
	'use strict';
	const TOKEN_KEY = 'skillmeat.token';
	const PROFILES = ['claude_code', 'codex', 'gemini', 'cursor'];
	const body = document.getElementById('detail-body');
	if (!body)
		return;
	let shown = null; /* the artifact id our section was built for */
	let busy = false;

	function el(tag, attrs, ...children) {
		const n = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {}))
			if (v !== null && v !== undefined)
				n.setAttribute(k, v);
		for (const c of children)
			n.append(c === null || c === undefined ? '' : c);
		return n;
	}

	function artifactId() {
		return new URLSearchParams(location.hash.replace(/^#/, '')).get('artifact');
	}

	async function call(method, path, payload) {
		const headers = { Accept: 'application/json' };
		let tok = '';
		try {
			tok = sessionStorage.getItem(TOKEN_KEY) || '';
		} catch (e) {
			tok = '';
		}
		if (tok)
			headers.Authorization = 'Bearer ' + tok;
		if (payload !== undefined)
			headers['Content-Type'] = 'application/json';
		const res = await fetch('/api/v1' + path, {
			method, headers, credentials: 'same-origin',
			body: payload === undefined ? undefined : JSON.stringify(payload),
		});
		let data = null;
		try {
			data = await res.json();
		} catch (e) {
			data = null;
		}
		if (!res.ok) {
			const d = data && data.detail;
			const msg = typeof d === 'string' ? d : d && d.message ? d.message
				: Array.isArray(d) && d[0] ? d[0].msg : res.statusText;
			throw new Error(`${res.status}: ${msg}`);
		}
		return data;
	}

	function statusOf(list, id, profile) {
		const d = (list || []).find((x) => x.artifact_id === id && x.profile_id === profile);
		return d ? d.status : 'unknown';
	}

	async function renderList(section, id) {
		const box = section.querySelector('.deploy-list');
		box.replaceChildren(el('p', { class: 'muted' }, 'Loading deployments…'));
		const art = await call('GET', '/artifacts/' + encodeURIComponent(id));
		const deps = art.deployments || [];
		if (!deps.length) {
			box.replaceChildren(el('p', { class: 'muted', 'data-deploy-empty': '' }, 'Not deployed anywhere.'));
			return;
		}
		const projects = [...new Set(deps.map((d) => d.project_path))];
		const statuses = {};
		await Promise.all(projects.map(async (p) => {
			try {
				const r = await call('GET', '/deployments?project_path=' + encodeURIComponent(p));
				statuses[p] = r.deployments;
			} catch (e) {
				statuses[p] = null;
			}
		}));
		const ul = el('ul', { class: 'deploy-items' });
		for (const d of deps) {
			const st = statusOf(statuses[d.project_path], id, d.deployment_profile_id);
			ul.append(el('li', { 'data-project': d.project_path, 'data-status': st },
				el('code', null, d.project_path), ' ',
				el('span', { class: 'muted' }, `(${d.deployment_profile_id})`), ' ',
				el('strong', { class: 'deploy-status' }, st),
				el('span', { class: 'muted' }, d.deployed_at ? ` · ${d.deployed_at}` : '')));
		}
		box.replaceChildren(ul);
	}

	function build(id) {
		const result = el('p', { class: 'deploy-result', role: 'status', 'aria-live': 'polite' });
		const path = el('input', { type: 'text', name: 'project_path', placeholder: '/absolute/path/to/project',
			'aria-label': 'Project path', required: '' });
		const profile = el('select', { name: 'profile', 'aria-label': 'Profile' },
			...PROFILES.map((p) => el('option', { value: p }, p)));
		const overwrite = el('input', { type: 'checkbox', name: 'overwrite' });
		const deployBtn = el('button', { type: 'submit', 'data-action': 'deploy' }, 'Deploy');
		const undeployBtn = el('button', { type: 'button', class: 'ghost', 'data-action': 'undeploy' }, 'Undeploy');
		const form = el('form', { class: 'deploy-form' }, path, profile,
			el('label', null, overwrite, ' overwrite'), deployBtn, undeployBtn);
		const section = el('section', { id: 'deploy-panel', 'data-artifact': id },
			el('h3', null, 'Deployments'), el('div', { class: 'deploy-list' }), form, result);

		async function act(kind) {
			if (busy)
				return;
			const p = path.value.trim();
			if (!p) {
				result.textContent = 'Give the project path.';
				return;
			}
			busy = true;
			result.textContent = kind === 'deploy' ? 'Deploying…' : 'Undeploying…';
			try {
				const payload = kind === 'deploy'
					? { project_path: p, deployment_profile_id: profile.value, overwrite: overwrite.checked }
					: { project_path: p, profile_id: profile.value };
				const r = await call('POST', `/artifacts/${encodeURIComponent(id)}/${kind}`, payload);
				result.textContent = r.success
					? (kind === 'deploy' ? `Deployed to ${r.deployed_path || p}` : `Undeployed from ${p}`)
					: `Failed: ${r.error_message || r.message}`;
				result.dataset.ok = r.success ? 'true' : 'false';
				await renderList(section, id);
			} catch (e) {
				result.textContent = `Failed: ${e.message}`;
				result.dataset.ok = 'false';
			} finally {
				busy = false;
			}
		}
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			act('deploy');
		});
		undeployBtn.addEventListener('click', () => act('undeploy'));
		return section;
	}

	function sync() {
		const id = artifactId();
		const present = document.getElementById('deploy-panel');
		if (!id || document.getElementById('detail').hidden) {
			shown = null;
			return;
		}
		if (present && shown === id)
			return;
		if (present)
			present.remove();
		/* wait for app.js to fill the panel for this artifact */
		if (!body.childElementCount)
			return;
		shown = id;
		const section = build(id);
		body.append(section);
		renderList(section, id).catch((e) => {
			section.querySelector('.deploy-list').replaceChildren(
				el('p', { class: 'muted' }, `Deployments unavailable: ${e.message}`));
		});
	}

	new MutationObserver(() => sync()).observe(body, { childList: true });
	window.addEventListener('hashchange', sync);
	sync();
})();
