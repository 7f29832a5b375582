import { describe, expect, it } from "vitest";
import { AcceptPressure, BUSY_ACCEPTS_PER_SECOND, MIN_HOLD_MS } from "../../src/deliveries";

const T0 = 1_000_000;

function accepts(pressure: AcceptPressure, from: number, count: number, spanMs: number): void {
  for (let i = 0; i < count; i++) pressure.noteAccept(from + Math.floor((i * spanMs) / count));
}

describe("AcceptPressure", () => {
  it("holds nothing below the threshold", () => {
    const p = new AcceptPressure();
    accepts(p, T0, BUSY_ACCEPTS_PER_SECOND - 1, 900);
    expect(p.holdMs(T0 + 900)).toBe(0);
  });

  it("holds at least MIN_HOLD_MS once the isolate is busy, then as long as the burst has lasted", () => {
    const p = new AcceptPressure({ busyAcceptsPerSecond: 100 });
    accepts(p, T0, 100, 500);
    expect(p.holdMs(T0 + 500)).toBe(MIN_HOLD_MS); // busy since now
    for (let s = 1; s <= 15; s++) accepts(p, T0 + s * 1_000, 150, 1_000);
    expect(p.holdMs(T0 + 15_500)).toBe(15_000); // busy since T0 + 500
  });

  it("weights the previous second by how much of it is still inside the window", () => {
    const p = new AcceptPressure({ busyAcceptsPerSecond: 100 });
    accepts(p, T0, 150, 900); // 150 in the first second
    expect(p.holdMs(T0 + 1_100)).toBeGreaterThan(0); // 150 × 0.9 = 135 still counted
    expect(p.holdMs(T0 + 1_500)).toBe(0); // 150 × 0.5 = 75
  });

  it("forgets a burst once the rate drops: the next one starts from MIN_HOLD_MS again", () => {
    const p = new AcceptPressure({ busyAcceptsPerSecond: 100 });
    accepts(p, T0, 200, 1_000);
    accepts(p, T0 + 1_000, 200, 1_000);
    expect(p.holdMs(T0 + 1_900)).toBeGreaterThan(0);
    expect(p.holdMs(T0 + 5_000)).toBe(0); // two idle seconds later
    accepts(p, T0 + 5_000, 200, 500);
    expect(p.holdMs(T0 + 5_500)).toBe(MIN_HOLD_MS);
  });

  it("starts afresh when the clock goes back (tests move it)", () => {
    const p = new AcceptPressure({ busyAcceptsPerSecond: 10 });
    accepts(p, T0, 20, 100);
    expect(p.holdMs(T0 + 100)).toBeGreaterThan(0);
    expect(p.holdMs(T0 - 60_000)).toBe(0);
  });
});
