import { describe, expect, it } from "vitest";
import type { StorageReport } from "../../src/durable/storage-report";
import { storageTotals } from "../../src/licenses/storage-totals";

const report = (over: Partial<StorageReport> = {}): StorageReport => ({ rows: {}, totalRows: 10, keys: 2, bytes: 1_000, ...over });

describe("license storage totals", () => {
  it("sums rows and bytes, takes the oldest item and the earliest prune over the License DO and its chats", async () => {
    const chats = { a: report({ oldestItemAt: 50, nextPruneAt: 900 }), b: report({ oldestItemAt: 70, nextPruneAt: 400 }) };
    const totals = await storageTotals(report({ oldestItemAt: 60, nextPruneAt: 500 }), {
      chatIds: ["a", "b"],
      indexed: 2,
      report: async (id) => chats[id as "a" | "b"],
    });
    expect(totals).toEqual({ rows: 30, bytes: 3_000, oldestItemAt: 50, nextPruneAt: 400, chats: { indexed: 2, counted: 2, unreachable: 0 }, partial: false });
  });

  it("is partial when indexed chats were left out, or one did not answer (named unreachable)", async () => {
    const some = await storageTotals(report(), { chatIds: ["a", "b", "c"], indexed: 150, report: async (id) => (id === "b" ? Promise.reject(new Error("gone")) : report()) });
    expect(some).toMatchObject({ rows: 30, chats: { indexed: 150, counted: 2, unreachable: 1 }, partial: true });
    const none = await storageTotals(report({ oldestItemAt: 5 }), { chatIds: [], indexed: 3, report: () => Promise.reject(new Error("not asked")) });
    expect(none).toEqual({ rows: 10, bytes: 1_000, oldestItemAt: 5, chats: { indexed: 3, counted: 0, unreachable: 0 }, partial: true });
    expect((await storageTotals(report(), { chatIds: [], indexed: 0, report: () => Promise.reject(new Error("not asked")) })).partial).toBe(false);
  });
});
