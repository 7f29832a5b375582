/** The handler API (INTERNALS.md "framework/"): register typed handlers, get a rich context. */
export { WebhookRouter, type Handler, type HandlerOptions, type RegisteredHandler } from "./router";
export type {
  BotRoutingState,
  ChatHandle,
  ChatStore,
  ChatTimers,
  DeliveryInfo,
  HandlerContext,
  LicenseHandle,
  LicenseRpc,
  LiveChatApis,
  PendingTimer,
  RoutingStatusUpdate,
} from "./context";
export { TimerRegistry, type TimerContext, type TimerHandler } from "./timers";
export { trackBotDeleted, trackRoutingStatus, BOT_DELETED_TRACKER, ROUTING_STATUS_TRACKER } from "./builtins";
export { createProcessor, BOT_NOT_ACCEPTING, NOT_INSTALLED, HandlerError, type ProcessorDeps } from "./dispatch";
export { deliveryHost, namedAlarms, type DeliveryHost } from "./host";
