import { createElement } from "#jsx/jsx-runtime";
import type { JournalEntry } from "../../../licenses/journal";
import { DeliveriesTable } from "./license";
import { Layout } from "./layout";

/** `/admin/licenses/:org/deliveries/:id`: one delivery, its journal entry and stored body (redacted). */
export function DeliveryPage(props: { csrf: string; org: string; deliveryId: string; entry: JournalEntry | null; delivery: unknown }) {
  const back = `/admin/licenses/${encodeURIComponent(props.org)}`;
  return (
    <Layout title={`Delivery ${props.deliveryId}`} csrf={props.csrf}>
      <p>
        <a href={back}>← License</a>
      </p>
      <h1>
        Delivery <code>{props.deliveryId}</code>
      </h1>
      {props.entry && <DeliveriesTable org={props.org} csrf={props.csrf} deliveries={[props.entry]} back={back} />}
      <h2>Stored delivery (secrets redacted)</h2>
      {props.delivery ? <pre>{JSON.stringify(props.delivery, null, 2)}</pre> : <p class="muted">No longer stored by its inbox (pruned).</p>}
    </Layout>
  );
}
