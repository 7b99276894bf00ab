/* SPDX-License-Identifier: MIT */
/*
 * The deployments section of the detail panel: where the shown artifact is
 * deployed (project, profile, status from GET /deployments?project_path=P)
 * and a form to deploy it to a project or undeploy it from one
 * (POST /artifacts/{id}/deploy and /undeploy: project path + profile), with
 * the result shown. Registered through window.SkillMeat (app.js).
 */
'use strict';

(function () {
	const SM = window.SkillMeat;
	const { el, setContent, api, errorBox } = SM;
	const PROFILES = ['claude_code', 'codex', 'gemini', 'cursor'];
	let seq = 0; /* unique ids per rendering */

	function statusOf(list, id, name, type, profile) {
		const d = (list || []).find((x) => (x.artifact_id === id ||
			(x.artifact_name === name && x.artifact_type === type)) && x.profile_id === profile);
		return d ? d.status : 'unknown';
	}

	/* The list: the artifact's deployments, each with its status in its project. */
	async function renderList(box, a) {
		setContent(box, el('p', { class: 'muted' }, 'Loading deployments…'));
		let art;
		try {
			art = await api(`/artifacts/${encodeURIComponent(a.id)}`);
		} catch (e) {
			setContent(box, errorBox(e));
			return;
		}
		const deps = Array.isArray(art.deployments) ? art.deployments : [];
		if (!deps.length) {
			setContent(box, el('p', { class: 'muted', 'data-deploy-empty': '' },
				'Not deployed to any project.'));
			return;
		}
		const projects = [...new Set(deps.map((d) => d.project_path))];
		const statuses = {};
		await Promise.all(projects.map(async (p) => {
			try {
				statuses[p] = (await api('/deployments', { project_path: p })).deployments;
			} catch (e) {
				statuses[p] = null;
			}
		}));
		setContent(box, el('ul', { class: 'deploy-items' }, deps.map((d) => {
			const st = statusOf(statuses[d.project_path], art.id || a.id, art.name || a.name,
				art.type || a.type, d.deployment_profile_id);
			return el('li', { 'data-project': d.project_path, 'data-profile': d.deployment_profile_id,
				'data-status': st },
			el('code', null, d.project_path), ' ',
			el('span', { class: 'muted' }, `(${d.deployment_profile_id})`), ' ',
			el('strong', { class: 'deploy-status' }, st),
			d.deployed_at ? el('span', { class: 'muted' }, ` · ${d.deployed_at}`) : null);
		})));
	}

	function build(a) {
		const n = ++seq;
		const box = el('div', { class: 'deploy-list' });
		const result = el('p', { class: 'deploy-result', role: 'status', 'aria-live': 'polite' });
		const path = el('input', { type: 'text', name: 'project_path', id: `deploy-path-${n}`,
			placeholder: '/absolute/path/to/project', autocomplete: 'off', spellcheck: 'false' });
		const profile = el('select', { name: 'profile', id: `deploy-profile-${n}` },
			PROFILES.map((p) => el('option', { value: p }, p)));
		const overwrite = el('input', { type: 'checkbox', name: 'overwrite', id: `deploy-overwrite-${n}` });
		const deployBtn = el('button', { type: 'submit', class: 'primary', 'data-action': 'deploy' }, 'Deploy');
		const undeployBtn = el('button', { type: 'button', 'data-action': 'undeploy' }, 'Undeploy');
		const form = el('form', { class: 'deploy-form', 'aria-label': `Deploy ${a.name || a.id}` },
			el('label', { for: path.id }, 'Project path'), path,
			el('label', { for: profile.id }, 'Profile'), profile,
			el('span', null, overwrite, el('label', { for: overwrite.id }, ' overwrite')),
			deployBtn, undeployBtn);
		let busy = false;

		async function act(kind) {
			if (busy)
				return;
			const p = path.value.trim();
			if (!p) {
				result.dataset.ok = 'false';
				result.textContent = 'Give the project path (an existing folder).';
				path.focus();
				return;
			}
			busy = true;
			deployBtn.disabled = undeployBtn.disabled = true;
			result.dataset.ok = '';
			result.textContent = kind === 'deploy' ? 'Deploying…' : 'Undeploying…';
			try {
				const body = kind === 'deploy'
					? { project_path: p, deployment_profile_id: profile.value, overwrite: overwrite.checked }
					: { project_path: p, profile_id: profile.value };
				const r = await api(`/artifacts/${encodeURIComponent(a.id)}/${kind}`, null, null,
					{ method: 'POST', body });
				result.dataset.ok = r.success ? 'true' : 'false';
				result.textContent = r.success
					? (kind === 'deploy' ? `Deployed to ${r.deployed_path || p}` : `Undeployed from ${p}`)
					: `Failed: ${r.error_message || r.message}`;
			} catch (e) {
				result.dataset.ok = 'false';
				result.textContent = `Failed: ${e.message}`;
			} finally {
				busy = false;
				deployBtn.disabled = undeployBtn.disabled = false;
			}
			await renderList(box, a);
		}
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			act('deploy');
		});
		undeployBtn.addEventListener('click', () => act('undeploy'));
		renderList(box, a);
		return el('section', { id: 'deploy-panel', 'data-artifact': a.id },
			el('h3', null, 'Deployments'), box, form, result);
	}

	SM.detailSections.push((a) => {
		if (!a || !a.id)
			return null;
		return build(a);
	});
})();
