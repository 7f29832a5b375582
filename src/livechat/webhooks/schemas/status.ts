import * as z from "zod/mini";
import { normalizeRoutingStatus, type RoutingStatus } from "../routing-status";
import { Id } from "./common";

/** A routing status in either spelling, output in the canonical one (docs/LIVECHAT.md §2.3 `routing_status_set`). */
export const RoutingStatusSchema = z.pipe(
  z.string(),
  z.transform((value, ctx): RoutingStatus => {
    const status = normalizeRoutingStatus(value);
    if (status) return status;
    ctx.issues.push({ code: "custom", message: "expected accepting chats, not accepting chats or offline", input: value });
    return z.NEVER;
  }),
);

/** `routing_status_set`: `agent_id`, `status` (canonical after parsing; docs/LIVECHAT.md §2.3 / W36, W35). */
export const RoutingStatusSetPayloadSchema = z.looseObject({ agent_id: Id, status: RoutingStatusSchema });
export type RoutingStatusSetPayload = z.output<typeof RoutingStatusSetPayloadSchema>;
