/**
 * What a license stores across its License DO and its Chat DOs, for the operator (docs/DATA.md
 * "Visible to the operator"): rows and bytes summed, the oldest item kept and the next prune (the
 * earliest over them). The chats are those of the chat index, counted on request with one RPC
 * each, at most {@link CHATS_COUNTED_MAX}; the answer says when the figure is partial (more chats
 * indexed than counted, or a chat that did not answer). A chat the index no longer holds is not counted.
 */
import type { StorageReport } from "../durable/storage-report";

/** Chat DOs asked per count (one RPC each; the same bound as an erase batch). */
export const CHATS_COUNTED_MAX = 100;

/** The license's stored data, License DO and Chat DOs together. */
export interface StorageTotals {
  rows: number;
  bytes: number;
  /** Oldest delivery, dead letter or journal entry kept anywhere counted (epoch ms). */
  oldestItemAt?: number;
  /** The earliest next prune (or final erase) over the DOs counted (epoch ms). */
  nextPruneAt?: number;
  chats: {
    /** Chats in the index (that may hold data). */
    indexed: number;
    /** Chats whose storage is in the figures. */
    counted: number;
    /** Chats asked that did not answer. */
    unreachable: number;
  };
  /** True when the figures leave out indexed chats. */
  partial: boolean;
}

/**
 * The totals over `own` (the License DO's report) and the Chat DOs `chatIds` (at most
 * {@link CHATS_COUNTED_MAX} of the `indexed` ones; none to count none), each asked with `report`.
 */
export async function storageTotals(
  own: StorageReport,
  chats: { chatIds: string[]; indexed: number; report: (chatId: string) => Promise<StorageReport> },
): Promise<StorageTotals> {
  const results = await Promise.allSettled(chats.chatIds.map(chats.report));
  const min = (x?: number, y?: number) => (x === undefined ? y : y === undefined ? x : Math.min(x, y));
  const totals: StorageTotals = { rows: own.totalRows, bytes: own.bytes, chats: { indexed: chats.indexed, counted: 0, unreachable: 0 }, partial: false };
  let { oldestItemAt, nextPruneAt } = own;
  for (const r of results) {
    if (r.status === "rejected") {
      totals.chats.unreachable++;
      continue;
    }
    totals.chats.counted++;
    totals.rows += r.value.totalRows;
    totals.bytes += r.value.bytes;
    oldestItemAt = min(oldestItemAt, r.value.oldestItemAt);
    nextPruneAt = min(nextPruneAt, r.value.nextPruneAt);
  }
  totals.partial = totals.chats.counted < chats.indexed;
  return { ...totals, ...(oldestItemAt === undefined ? {} : { oldestItemAt }), ...(nextPruneAt === undefined ? {} : { nextPruneAt }) };
}
