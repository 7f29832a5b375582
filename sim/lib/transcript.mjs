// A chat as a human reads it: who said what, in which thread, with tags, rating and visibility.
import { latestThread } from "./world.mjs";

/** @typedef {import("./state.mjs").License} License */
/** @typedef {import("./state.mjs").Chat} Chat */
/** @typedef {import("./world.mjs").World} World */

/**
 * The transcript as data: threads with their events, each event with its author's name and kind.
 * @param {World} world
 * @param {License} license
 * @param {Chat} chat
 */
export function transcript(world, license, chat) {
  return {
    chat_id: chat.id,
    license: license.name,
    organization_id: license.organization_id,
    active: Boolean(latestThread(chat)?.active),
    users: chat.users.map((u) => ({ id: u.id, name: world.nameOf(license, u.id), kind: world.kindOf(license, u.id), present: u.present, visibility: u.visibility })),
    threads: chat.threads.map((t) => ({
      id: t.id,
      created_at: t.created_at,
      active: t.active,
      tags: [...t.tags],
      rating: t.properties.rating ?? null,
      properties: t.properties,
      events: t.events.map((e) => ({
        id: e.id,
        created_at: e.created_at,
        type: e.type,
        author_id: e.author_id ?? null,
        author_name: e.author_id ? world.nameOf(license, e.author_id) : "LiveChat",
        author_kind: e.author_id ? (world.kindOf(license, e.author_id) ?? "unknown") : "system",
        visibility: e.visibility,
        text: describe(e),
        ...(e.system_message_type ? { system_message_type: e.system_message_type } : {}),
      })),
    })),
  };
}

/**
 * One line of text for any event type.
 * @param {Record<string, any>} e
 */
function describe(e) {
  switch (e.type) {
    case "message":
    case "system_message":
      return e.text ?? "";
    case "file":
      return `[file] ${e.name ?? ""} ${e.url}`.trim();
    case "rich_message":
      return `[rich message ${e.template_id}] ${(e.elements ?? []).map((el) => el.title ?? "").filter(Boolean).join(" | ")}`;
    case "custom":
      return `[custom] ${JSON.stringify(e.content)}`;
    case "filled_form":
      return `[form] ${(e.fields ?? []).map((f) => `${f.label ?? f.id}: ${f.answer ?? ""}`).join("; ")}`;
    default:
      return `[${e.type}]`;
  }
}

/**
 * The transcript as plain text.
 * @param {ReturnType<typeof transcript>} t
 */
export function transcriptText(t) {
  const lines = [`Chat ${t.chat_id} (license ${t.license}) — ${t.active ? "active" : "closed"}`];
  const users = t.users.map((u) => `${u.name} <${u.kind}${u.visibility === "agents" ? ", agents only" : ""}${u.present ? "" : ", left"}>`);
  lines.push(`Users: ${users.join(", ")}`);
  for (const thread of t.threads) {
    lines.push("");
    const extras = [thread.active ? "active" : "closed"];
    if (thread.tags.length) extras.push(`tags: ${thread.tags.join(", ")}`);
    if (thread.rating && thread.rating.score !== undefined) {
      extras.push(`rating: ${thread.rating.score === 1 ? "good" : "bad"}${thread.rating.comment ? ` ("${thread.rating.comment}")` : ""}`);
    }
    lines.push(`── thread ${thread.id} (${extras.join("; ")})`);
    if (!thread.events.length) lines.push("   (no events)");
    for (const e of thread.events) {
      const time = e.created_at.slice(11, 19);
      const who = e.author_kind === "system" ? "* LiveChat" : `${e.author_name} (${e.author_kind})`;
      const mark = e.visibility === "agents" ? " [agents only]" : "";
      lines.push(`   ${time} ${who}${mark}: ${e.text}`);
    }
  }
  return lines.join("\n");
}
