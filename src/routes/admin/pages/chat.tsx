import { createElement } from "#jsx/jsx-runtime";
import type { JournalEntry } from "../../../licenses/journal";
import { DeliveriesTable, EraseForm } from "./license";
import { Layout, Time } from "./layout";

/** A pending timer as the Chat DO lists it. */
export interface TimerView {
  name: string;
  due: number;
  data?: unknown;
}

/** `/admin/licenses/:org/chats/:chat`: the chat's pending timers and its deliveries. */
export function ChatPage(props: { csrf: string; org: string; chatId: string; timers: TimerView[] | null; deliveries: JournalEntry[] }) {
  const licensePath = `/admin/licenses/${encodeURIComponent(props.org)}`;
  const back = `${licensePath}/chats/${encodeURIComponent(props.chatId)}`;
  return (
    <Layout title={`Chat ${props.chatId}`} csrf={props.csrf}>
      <p>
        <a href={licensePath}>← License</a>
      </p>
      <h1>
        Chat <code>{props.chatId}</code>
      </h1>
      <EraseForm back={back} csrf={props.csrf} />
      <h2>Pending timers</h2>
      {props.timers === null ? (
        <p class="muted">Timers could not be read.</p>
      ) : props.timers.length === 0 ? (
        <p class="muted">No pending timers.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Timer</th>
              <th>Due</th>
              <th>Data</th>
            </tr>
          </thead>
          <tbody>
            {props.timers.map((t) => (
              <tr>
                <td>
                  <code>{t.name}</code>
                </td>
                <td>
                  <Time at={t.due} />
                </td>
                <td>
                  <code>{t.data === undefined ? "" : JSON.stringify(t.data)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Deliveries</h2>
      <DeliveriesTable org={props.org} csrf={props.csrf} deliveries={props.deliveries} back={back} />
    </Layout>
  );
}
