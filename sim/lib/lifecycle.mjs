// Installing and uninstalling an app on a license (docs/LIVECHAT.md §7): license webhooks are enabled
// on install unless they were explicitly disabled (C36 "Disable License Webhooks" survives
// re-installs); App Webhooks report both; uninstall revokes the app's tokens on the license.

/** @typedef {import("./state.mjs").App} App */
/** @typedef {import("./state.mjs").License} License */
/** @typedef {import("./tokens.mjs").Tokens} Tokens */
/** @typedef {import("./webhooks.mjs").WebhookDispatcher} WebhookDispatcher */

/**
 * Mark the app installed (once) and send `application_installed`.
 * @param {{ dispatcher: WebhookDispatcher }} deps
 * @param {License} license
 * @param {App} app
 * @returns {boolean} true when it was not installed before
 */
export function install({ dispatcher }, license, app) {
  if (license.installs[app.client_id]?.installed) return false;
  license.installs[app.client_id] = { installed: true, installed_at: new Date().toISOString() };
  dispatcher.appWebhook(app, license, "application_installed");
  return true;
}

/**
 * Uninstall: tokens of the app on this license are revoked (refresh then fails with
 * `invalid_grant`, API calls with `authentication`), webhooks stop, `application_uninstalled` is sent.
 * The app's bots stay on the license (LiveChat does not document what happens to them).
 * @param {{ dispatcher: WebhookDispatcher, tokens: Tokens }} deps
 * @param {License} license
 * @param {App} app
 * @returns {boolean} true when it was installed
 */
export function uninstall({ dispatcher, tokens }, license, app) {
  const current = license.installs[app.client_id];
  if (!current?.installed) return false;
  license.installs[app.client_id] = { ...current, installed: false, uninstalled_at: new Date().toISOString() };
  tokens.revokeLicense(license, { clientId: app.client_id });
  dispatcher.appWebhook(app, license, "application_uninstalled");
  return true;
}
