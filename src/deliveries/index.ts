/** The durable inbox shared by the License and Chat DOs (INTERNALS.md "deliveries/"). */
export * from "./inbox";
export * from "./retry";
export type * from "./types";
export * from "./pressure";
export * from "./retention";
