import { createElement, Fragment } from "#jsx/jsx-runtime";
import type { JournalEntry } from "../../../licenses/journal";
import { MAX_REVIEW_URL_LENGTH } from "../../../licenses/settings";
import type { DeadLetterView, licenseDetail } from "../data";
import { OUTCOMES } from "../data";
import type { SettingsFormValues } from "../settings-form";
import { DeliveryChart } from "./chart";
import { Badge, Layout, Time } from "./layout";

type Detail = Omit<Awaited<ReturnType<typeof licenseDetail>>, "known">;

const path = (org: string) => `/admin/licenses/${encodeURIComponent(org)}`;

/** A replay button: a CSRF-protected form post (no script). */
export function ReplayButton(props: { org: string; deliveryId: string; chatId?: string; csrf: string; back: string; label?: string }) {
  return (
    <form class="inline" method="post" action={`${path(props.org)}/deliveries/${encodeURIComponent(props.deliveryId)}/replay`}>
      <input type="hidden" name="_csrf" value={props.csrf} />
      <input type="hidden" name="back" value={props.back} />
      {props.chatId !== undefined && <input type="hidden" name="chat" value={props.chatId} />}
      <button type="submit" data-delivery={props.deliveryId}>
        {props.label ?? "Replay"}
      </button>
    </form>
  );
}

/** Erase what `back` shows (the license, or a chat): a post the operator confirms by typing its id. */
export function EraseForm(props: { back: string; csrf: string }) {
  return (
    <form class="inline" method="post" action={`${props.back}/erase`}>
      <input type="hidden" name="_csrf" value={props.csrf} />
      <input name="confirm" placeholder="Type the id to erase" required />
      <button type="submit">Erase</button>
    </form>
  );
}

/** The journal's deliveries as a table (license page and chat page). */
export function DeliveriesTable(props: { org: string; csrf: string; deliveries: JournalEntry[]; back: string }) {
  if (props.deliveries.length === 0) return <p class="muted">No deliveries recorded.</p>;
  return (
    <table class="deliveries">
      <thead>
        <tr>
          <th>Last update</th>
          <th>Action</th>
          <th>Chat</th>
          <th>Outcome</th>
          <th>Attempts</th>
          <th>Duration</th>
          <th>Error / note</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {props.deliveries.map((d) => (
          <tr>
            <td>
              <a href={`${path(props.org)}/deliveries/${encodeURIComponent(d.deliveryId)}${d.chatId ? `?chat=${encodeURIComponent(d.chatId)}` : ""}`}>
                <Time at={d.updatedAt} />
              </a>
            </td>
            <td>
              <code>{d.action}</code> <span class="muted">{d.kind}</span>
            </td>
            <td>
              {d.chatId ? (
                <a href={`${path(props.org)}/chats/${encodeURIComponent(d.chatId)}`}>
                  <code>{d.chatId}</code>
                </a>
              ) : (
                <span class="muted">license</span>
              )}
            </td>
            <td>
              <Badge status={d.outcome} />
            </td>
            <td class="num">{d.attempts}</td>
            <td class="num">{d.durationMs !== undefined ? `${d.durationMs} ms` : "—"}</td>
            <td>{d.error ?? d.note ?? ""}</td>
            <td>
              {d.outcome !== "pending" && d.outcome !== "retry" && (
                <ReplayButton org={props.org} deliveryId={d.deliveryId} chatId={d.chatId} csrf={props.csrf} back={props.back} />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `/admin/licenses/:org`: the license, its bot, chart, dead letters, deliveries and settings. */
export function LicensePage(props: {
  csrf: string;
  detail: Detail;
  deliveries: JournalEntry[];
  deadLetters: DeadLetterView[];
  status?: string;
  form: SettingsFormValues;
  problems?: string[];
  notice?: { text: string; error?: boolean };
}) {
  const { detail, csrf } = props;
  const org = detail.organizationId;
  const inst = detail.installation;
  const bot = detail.bot;
  const rec = detail.lastReconcile;
  const total = detail.storage.total;
  const tomb = detail.storage.tombstone;
  const back = path(org);
  return (
    <Layout title={org} csrf={csrf}>
      <p>
        <a href="/admin">← Licenses</a>
      </p>
      <h1>
        License <code>{org}</code>
        {detail.licenseNumber !== undefined && <span class="muted">{` (LiveChat license ${detail.licenseNumber})`}</span>}
      </h1>
      {props.notice && <p class={props.notice.error ? "notice error" : "notice"}>{props.notice.text}</p>}
      <div class="grid">
        <section class="card" id="installation">
          <h2>Installation</h2>
          <dl>
            <dt>Status</dt>
            <dd>
              {inst.installed ? <Badge status="ok" label="installed" /> : <Badge status="bad" label="not installed" />}{" "}
              {inst.needsReinstall && <Badge status="bad" label="needs reinstall" />}
            </dd>
            {inst.reinstallReason && (
              <>
                <dt>Reason</dt>
                <dd>{inst.reinstallReason}</dd>
              </>
            )}
            <dt>Installed</dt>
            <dd>
              <Time at={inst.installedAt} />
            </dd>
            <dt>Token expires</dt>
            <dd>
              <Time at={inst.expiresAt} />
            </dd>
            <dt>Region</dt>
            <dd>{inst.region ?? "—"}</dd>
            <dt>Scopes</dt>
            <dd>{inst.scopes?.length ?? 0}</dd>
          </dl>
        </section>
        <section class="card" id="bot">
          <h2>Bot</h2>
          {bot ? (
            <dl>
              <dt>Name</dt>
              <dd>{bot.name}</dd>
              <dt>Id</dt>
              <dd>
                <code>{bot.id}</code>
              </dd>
              <dt>Routing</dt>
              <dd>
                {bot.deletedAt !== undefined ? (
                  <>
                    <Badge status="bad" label="deleted in LiveChat" /> <Time at={bot.deletedAt} />
                  </>
                ) : (
                  <>
                    <Badge status={bot.routingStatus ?? "unknown"} label={bot.routingStatus ?? "unknown"} /> <Time at={bot.routingStatusAt} />
                  </>
                )}
              </dd>
              <dt>Token expires</dt>
              <dd>
                <Time at={bot.tokenExpiresAt} />
              </dd>
            </dl>
          ) : (
            <p class="muted">Not provisioned yet.</p>
          )}
        </section>
        <section class="card" id="reconcile">
          <h2>Last reconcile</h2>
          {rec ? (
            <dl>
              <dt>At</dt>
              <dd>
                <Time at={rec.at} /> <span class="muted">{`${rec.durationMs} ms`}</span>
              </dd>
              <dt>Drift</dt>
              <dd>{rec.drift.length ? `${rec.drift.join("; ")}${rec.failed.length ? "" : " (fixed)"}` : "none"}</dd>
              <dt>Fixed</dt>
              <dd>{rec.fixed.length ? rec.fixed.join("; ") : "nothing"}</dd>
              <dt>Failed</dt>
              <dd>{rec.failed.length ? rec.failed.map((f) => `${f.step}: ${f.error}`).join("; ") : "nothing"}</dd>
              {rec.skipped && (
                <>
                  <dt>Skipped</dt>
                  <dd>{rec.skipped}</dd>
                </>
              )}
            </dl>
          ) : (
            <p class="muted">Not reconciled yet.</p>
          )}
          <form class="inline" method="post" action={`${back}/reconcile`}>
            <input type="hidden" name="_csrf" value={csrf} />
            <button type="submit">Reconcile now</button>
          </form>
        </section>
        <section class="card" id="inbox">
          <h2>License inbox</h2>
          <dl>
            <dt>Pending</dt>
            <dd>{detail.inbox.pending}</dd>
            <dt>Dead letters</dt>
            <dd>{props.deadLetters.length}</dd>
            <dt>Oldest pending</dt>
            <dd>
              <Time at={detail.inbox.oldestPendingAt} />
            </dd>
          </dl>
        </section>
        <section class="card" id="storage">
          <h2>Storage</h2>
          <dl>
            <dt>Rows</dt>
            <dd>{total.rows}</dd>
            <dt>Bytes</dt>
            <dd>{total.bytes}</dd>
            <dt>Chats counted</dt>
            <dd>
              {`${total.chats.counted} of ${total.chats.indexed}`}
              {total.partial && <Badge status="warn" label="partial" />}
            </dd>
            <dt>Oldest item</dt>
            <dd>
              <Time at={total.oldestItemAt} />
            </dd>
            <dt>Next prune</dt>
            <dd>
              <Time at={total.nextPruneAt} />
            </dd>
            {tomb && (
              <>
                <dt>Erased</dt>
                <dd>
                  <Time at={tomb.uninstalledAt} /> {`${tomb.reason}, bot ${tomb.bot}; the rest goes`} <Time at={tomb.eraseAt} />
                </dd>
              </>
            )}
          </dl>
          {inst.installed && <EraseForm back={back} csrf={csrf} />}
        </section>
      </div>

      <h2>Deliveries, last 24 hours</h2>
      <DeliveryChart hours={detail.hourly} />

      <h2 id="dead-letters">Dead letters</h2>
      {props.deadLetters.length === 0 ? (
        <p class="muted">No dead letters.</p>
      ) : (
        <table class="dead-letters">
          <thead>
            <tr>
              <th>Dead since</th>
              <th>Action</th>
              <th>Chat</th>
              <th>Attempts</th>
              <th>Error</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.deadLetters.map((d) => (
              <tr>
                <td>
                  <Time at={d.deadAt} />
                </td>
                <td>
                  <code>{d.action}</code>
                </td>
                <td>{d.chatId ? <code>{d.chatId}</code> : <span class="muted">license</span>}</td>
                <td class="num">{d.attempts}</td>
                <td>{d.error}</td>
                <td>
                  <ReplayButton org={org} deliveryId={d.deliveryId} chatId={d.chatId} csrf={csrf} back={back} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2 id="deliveries">Recent deliveries</h2>
      <p>
        Filter:{" "}
        {[undefined, ...OUTCOMES].map((s) => (
          <>
            {s === props.status || (!s && !props.status) ? <strong>{s ?? "all"}</strong> : <a href={s ? `${back}?status=${s}#deliveries` : `${back}#deliveries`}>{s ?? "all"}</a>}{" "}
          </>
        ))}
      </p>
      <DeliveriesTable org={org} csrf={csrf} deliveries={props.deliveries} back={back} />

      <h2 id="settings">Settings</h2>
      {props.problems && props.problems.length > 0 && (
        <div class="notice error" role="alert">
          <strong>The settings were not saved:</strong>
          <ul>
            {props.problems.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        </div>
      )}
      <form class="settings" method="post" action={`${back}/settings`}>
        <input type="hidden" name="_csrf" value={csrf} />
        <label for="replyTimeoutSeconds">Reply timeout (s)</label>
        <input id="replyTimeoutSeconds" name="replyTimeoutSeconds" type="number" min="5" max="86400" value={props.form.replyTimeoutSeconds} />
        <label for="replyMessage">Reply message</label>
        <textarea id="replyMessage" name="replyMessage">{props.form.replyMessage}</textarea>
        <span class="hint">Sent to a customer nobody answered within the timeout.</span>
        <label for="botName">Bot name</label>
        <input id="botName" name="botName" value={props.form.botName} />
        <label for="tagSuggestions">Tag suggestions</label>
        <textarea id="tagSuggestions" name="tagSuggestions">{props.form.tagSuggestions}</textarea>
        <span class="hint">One "tag: suggestion" per line; several lines per tag allowed.</span>
        <label for="contentSuggestions">Suggest from customers' messages</label>
        <select id="contentSuggestions" name="contentSuggestions">
          <option value="on" selected={props.form.contentSuggestions === "on"}>
            On
          </option>
          <option value="off" selected={props.form.contentSuggestions === "off"}>
            Off
          </option>
        </select>
        <span class="hint">The tag suggestions that fit what a customer writes, shown to agents only.</span>
        <label for="contentSuggestionThreshold">Suggestion threshold</label>
        <input
          id="contentSuggestionThreshold"
          name="contentSuggestionThreshold"
          type="number"
          min="0.05"
          max="10"
          step="0.05"
          value={props.form.contentSuggestionThreshold}
        />
        <span class="hint">Higher: fewer, surer suggestions. 1 is one word only that tag has.</span>
        <label for="tagKeywords">Tag keywords</label>
        <textarea id="tagKeywords" name="tagKeywords">{props.form.tagKeywords}</textarea>
        <span class="hint">One "tag: keyword, keyword" per line, in any language: words customers use for the tag.</span>
        <label for="goodMessage">Good-rating message</label>
        <textarea id="goodMessage" name="goodMessage">{props.form.goodMessage}</textarea>
        <label for="badMessage">Bad-rating message</label>
        <textarea id="badMessage" name="badMessage">{props.form.badMessage}</textarea>
        <label for="reviewUrl">Review link</label>
        <input id="reviewUrl" name="reviewUrl" type="url" maxlength={MAX_REVIEW_URL_LENGTH} value={props.form.reviewUrl} />
        <span class="hint">{"Fills {reviewUrl}; empty: its sentence is left out."}</span>
        <label for="routingMode">Routing status</label>
        <select id="routingMode" name="routingMode">
          <option value="managed" selected={props.form.routingMode === "managed"}>
            managed: the app keeps the bot accepting chats in its working hours
          </option>
          <option value="owner" selected={props.form.routingMode === "owner"}>
            owner: the license owner decides in LiveChat; the app never overrides
          </option>
        </select>
        <label for="workingHours">Working hours (JSON)</label>
        <textarea id="workingHours" name="workingHours">{props.form.workingHours}</textarea>
        <span class="hint">
          Empty: always accepting chats. Example: {'{"timezone":"Europe/Warsaw","days":{"monday":[{"start":"09:00","end":"17:00"}]}}'}
        </span>
        <span />
        <button class="primary" type="submit">
          Save settings
        </button>
      </form>

      <h2>App events</h2>
      {detail.appEvents.length === 0 ? (
        <p class="muted">None recorded.</p>
      ) : (
        <table>
          <tbody>
            {detail.appEvents.map((e) => (
              <tr>
                <td>
                  <Time at={e.receivedAt} />
                </td>
                <td>
                  <code>{e.event}</code>
                </td>
                <td>{e.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
