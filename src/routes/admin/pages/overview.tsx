import { createElement, Fragment } from "#jsx/jsx-runtime";
import type { JournalOutcome } from "../../../licenses/journal";
import type { ConfigurationNotes, LicenseRow } from "../data";
import { Badge, Layout, Time } from "./layout";

/** `/admin`: every installed license (one KV page) with its token, bot, last reconcile and 24-hour counts. */
export function OverviewPage(props: { csrf: string; licenses: LicenseRow[]; cursor?: string; notes: ConfigurationNotes }) {
  const count = (row: LicenseRow, key: JournalOutcome) => row.last24h[key] ?? 0;
  const rotation = props.notes.keyRotation;
  return (
    <Layout title="Licenses" csrf={props.csrf}>
      <h1>Licenses</h1>
      {props.notes.warnings.map((w) => (
        <p class="notice error">Weak configuration: {w.problem}.</p>
      ))}
      {rotation && (
        <p class="notice" id="key-rotation">
          {rotation.remaining > 0
            ? `Key rotation: ${rotation.remaining} ${rotation.remaining === 1 ? "license is" : "licenses are"} still sealed with the previous TOKEN_ENCRYPTION_KEY; the cron seals them again.`
            : "Key rotation: every license is sealed with the current TOKEN_ENCRYPTION_KEY. TOKEN_ENCRYPTION_KEY_PREVIOUS can be removed."}
        </p>
      )}
      {props.licenses.length === 0 ? (
        <p class="muted">No license has installed the app yet. Install it through /install (locally: npm start installs a demo license on the simulator).</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Organization</th>
              <th>Installed</th>
              <th>Token expires</th>
              <th>Grant</th>
              <th>Bot</th>
              <th>Last reconcile</th>
              <th>Processed 24 h</th>
              <th>Failed / dead 24 h</th>
            </tr>
          </thead>
          <tbody>
            {props.licenses.map((l) => (
              <tr>
                <td>
                  <a href={`/admin/licenses/${encodeURIComponent(l.organizationId)}`}>
                    <code>{l.organizationId}</code>
                  </a>
                  {l.licenseNumber !== undefined && <span class="muted">{` license ${l.licenseNumber}`}</span>}
                </td>
                <td>
                  <Time at={l.installedAt} />
                </td>
                <td>
                  <Time at={l.expiresAt} />
                </td>
                <td>
                  {l.needsReinstall ? <Badge status="bad" label="needs reinstall" /> : <Badge status="ok" label="ok" />}
                  {rotation && l.oldKey && <Badge status="warn" label="previous key" />}
                </td>
                <td>
                  {l.bot ? (
                    <>
                      {l.bot.name} <Badge status={l.bot.routingStatus ?? "unknown"} label={l.bot.routingStatus ?? "status unknown"} />
                    </>
                  ) : (
                    <span class="muted">none</span>
                  )}
                </td>
                <td>
                  {l.lastReconcile ? (
                    <>
                      <Time at={l.lastReconcile.at} />{" "}
                      {l.lastReconcile.failed > 0 ? (
                        <Badge status="bad" label={`${l.lastReconcile.failed} failed`} />
                      ) : l.lastReconcile.drift.length > 0 ? (
                        // A step that finds drift fixes it or fails: with no failure, all of it was fixed.
                        <Badge status="ok" label={`in sync (${l.lastReconcile.drift.length} fixed)`} />
                      ) : (
                        <Badge status="ok" label="in sync" />
                      )}
                    </>
                  ) : (
                    <span class="muted">never</span>
                  )}
                </td>
                <td class="num">{count(l, "processed") + count(l, "skipped")}</td>
                <td class="num">{`${count(l, "retry")} / ${count(l, "dead")}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.cursor && <a href={`/admin?cursor=${encodeURIComponent(props.cursor)}`}>Next page →</a>}
    </Layout>
  );
}
