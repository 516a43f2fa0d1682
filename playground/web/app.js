// The playground page: a user's private chat with the bot and the staff group, side by
// side (one at a time on a phone), each kept live by a server-sent event stream.
"use strict";

// LOCALES holds the page's own texts (locales.json), Chinese first; the bot's texts come
// from the bot.
let LOCALES = { zh: {}, en: {} };
// Chinese first, as the bot: English is a tap away and then remembered.
let ui = localStorage.getItem("bangban.ui") || "zh";
const T = (key) => LOCALES[ui][key] || LOCALES.zh[key] || key;

const DEFAULT_USERS = [
  { user: 1001, name: "王师傅", lang: "zh-hans" },
  { user: 1002, name: "Emma", lang: "en" },
  { user: 9001, name: "王姐", lang: "zh-hans" },
];

const state = {
  info: { bot: { name: "Bangban", username: "bangban_bot" }, points: [], users: [] },
  users: JSON.parse(localStorage.getItem("bangban.users") || "null") || DEFAULT_USERS,
  current: Number(localStorage.getItem("bangban.user")) || 1001,
  staffAs: Number(localStorage.getItem("bangban.staffAs")) || 9001,
};

function saveUsers() {
  localStorage.setItem("bangban.users", JSON.stringify(state.users));
  localStorage.setItem("bangban.user", String(state.current));
  localStorage.setItem("bangban.staffAs", String(state.staffAs));
}

function userByID(id) {
  return state.users.find((u) => u.user === id) || { user: id, name: "User " + id, lang: "" };
}

// el builds an element: el("div.a.b", {attr: v, onclick: f}, child, "text", …).
function el(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const e = document.createElement(tag || "div");
  if (classes.length) e.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) e.append(c);
  }
  return e;
}

async function post(path, body) {
  const resp = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!resp.ok) {
    const err = await resp.json().catch(() => ({ error: resp.statusText }));
    throw new Error(err.error || resp.statusText);
  }
  return resp.json();
}

function showModal(text) {
  const m = document.getElementById("modal");
  m.querySelector("p").textContent = text;
  m.classList.remove("hidden");
}

// ---- message rendering ----

const escapeHTML = (s) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

const TAGS = {
  bold: ["<b>", "</b>"],
  italic: ["<i>", "</i>"],
  underline: ["<u>", "</u>"],
  strikethrough: ["<s>", "</s>"],
  spoiler: ['<span class="spoiler">', "</span>"],
  code: ["<code>", "</code>"],
  pre: ["<pre>", "</pre>"],
  blockquote: ["<blockquote>", "</blockquote>"],
  expandable_blockquote: ["<blockquote>", "</blockquote>"],
};

// formatted renders a text with its Bot API entities (UTF-16 offsets, as JavaScript
// strings count) as HTML.
function formatted(text, entities) {
  const opens = new Map();
  const closes = new Map();
  for (const e of entities || []) {
    let tag = TAGS[e.type];
    const part = text.substr(e.offset, e.length);
    if (e.type === "text_link" || e.type === "url") {
      const href = e.type === "url" ? (/^https?:/i.test(part) ? part : "https://" + part) : e.url;
      if (!/^(https?|tg):/i.test(href)) continue;
      tag = ['<a href="' + escapeHTML(href) + '" target="_blank" rel="noopener">', "</a>"];
    }
    if (!tag) continue;
    if (!opens.has(e.offset)) opens.set(e.offset, []);
    opens.get(e.offset).push({ tag, end: e.offset + e.length });
    const end = e.offset + e.length;
    if (!closes.has(end)) closes.set(end, []);
    closes.get(end).unshift(tag[1]);
  }
  const cuts = [...new Set([0, text.length, ...opens.keys(), ...closes.keys()])].sort((a, b) => a - b);
  let html = "";
  for (let i = 0; i < cuts.length; i++) {
    const at = cuts[i];
    html += (closes.get(at) || []).join("");
    const open = (opens.get(at) || []).sort((a, b) => b.end - a.end);
    html += open.map((o) => o.tag[0]).join("");
    if (i + 1 < cuts.length) html += escapeHTML(text.slice(at, cuts[i + 1]));
  }
  return html;
}

// ---- a chat pane ----

class Pane {
  // kind is "user" (a user's private chat with the bot) or "staff" (the staff group).
  constructor(root, kind) {
    this.root = root;
    this.kind = kind;
    this.messages = [];
    this.keyboard = null;
    this.keyboardShown = true;
    this.replyTo = 0;
    this.thread = -1; // the staff pane's topic: -1 all, 0 general
    this.source = null;
    this.build();
  }

  // actor is the simulated user writing in this pane.
  actor() {
    return userByID(this.kind === "staff" ? state.staffAs : state.current);
  }

  chatQuery() {
    return this.kind === "staff" ? "chat=staff" : "user=" + state.current;
  }

  build() {
    const r = this.root;
    r.replaceChildren();
    this.head = el("div.head");
    this.topics = el("div.topics");
    this.list = el("div.messages", { "aria-live": "polite" });
    this.status = el("div.status");
    this.replyBar = el("div.replybar.hidden");
    this.input = el("input.text", { type: "text", autocomplete: "off", enterkeyhint: "send" });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.isComposing) this.sendText();
    });
    this.popup = el("div.popup.hidden");
    this.kbToggle = el("button.icon.kbtoggle.hidden", { type: "button", "data-title": "keyboard", onclick: () => this.toggleKeyboard() }, "⌨");
    this.composer = el("div.composer", {},
      el("button.icon.menu", { type: "button", "data-title": "menu", onclick: () => this.openMenu() }, "☰"),
      el("button.icon.attach", { type: "button", "data-title": "attach", onclick: () => this.openAttach() }, "📎"),
      this.input, this.kbToggle,
      el("button.icon.send", { type: "button", "data-title": "send", onclick: () => this.sendText() }, "➤"));
    this.replyKb = el("div.replykb");
    this.file = el("input.hidden", { type: "file" });
    this.file.addEventListener("change", () => this.sendFile());
    r.append(this.head, this.topics, this.list, this.status, this.replyBar, this.popup, this.composer, this.replyKb, this.file);
    this.renderHead();
  }

  renderHead() {
    const labels = () => {
      this.root.querySelectorAll("[data-t]").forEach((e) => (e.textContent = T(e.dataset.t)));
      this.root.querySelectorAll("[data-title]").forEach((e) => {
        e.title = T(e.dataset.title);
        e.setAttribute("aria-label", e.title);
      });
    };
    const select = el("select.who", { "aria-label": this.kind === "staff" ? T("staffAs") : T("user") },
      state.users.map((u) => el("option", { value: u.user, selected: u.user === this.actor().user }, `${u.name} · ${u.user}`)));
    select.addEventListener("change", () => {
      if (this.kind === "staff") state.staffAs = Number(select.value);
      else state.current = Number(select.value);
      saveUsers();
      if (this.kind === "user") this.connect();
    });
    if (this.kind === "user") {
      const points = el("select.points", { "aria-label": T("scanPick") },
        el("option", { value: "" }, T("scanPick")),
        state.info.points.map((p) => el("option", { value: "cp_" + p.id }, (ui === "en" && p.name_en) || p.name)));
      const scan = el("input.scan", { type: "text", placeholder: T("scanHint"), autocomplete: "off" });
      points.addEventListener("change", () => {
        if (points.value) scan.value = `https://t.me/${state.info.bot.username}?start=${points.value}`;
      });
      this.head.replaceChildren(
        el("div.row", {}, el("span.avatar", {}, "🤖"), el("b.title", {}, state.info.bot.name),
          el("label.small", {}, el("span", { "data-t": "user" }), select),
          el("button.icon.adduser", { type: "button", title: T("addUser"), onclick: () => this.addUser() }, "＋")),
        el("div.row.scanrow", {}, state.info.points.length ? points : null, scan,
          el("button.scanbtn", { type: "button", onclick: () => this.scan(scan.value), "data-t": "scan" })));
    } else {
      this.head.replaceChildren(el("div.row", {}, el("span.avatar", {}, "👥"), el("b.title", { "data-t": "tabStaff" }),
        el("label.small", {}, el("span", { "data-t": "staffAs" }), select)));
    }
    labels();
    this.input.placeholder = T("message");
  }

  addUser() {
    const next = Math.max(1000, ...state.users.map((u) => u.user)) + 1;
    const id = el("input", { type: "number", min: 1, value: next });
    const name = el("input", { type: "text", placeholder: T("name") });
    const lang = el("select", {}, el("option", { value: "zh-hans" }, "中文 zh-hans"), el("option", { value: "en" }, "English en"),
      el("option", { value: "" }, T("langNone")));
    const form = el("form.adduser", {},
      el("label", {}, "ID ", id), el("label", {}, T("name") + " ", name), el("label", {}, T("lang") + " ", lang),
      el("div.row", {}, el("button", { type: "submit" }, T("save")),
        el("button", { type: "button", onclick: () => this.hidePopup() }, T("cancel"))));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const u = { user: Number(id.value), name: name.value.trim() || "User " + id.value, lang: lang.value };
      if (!(u.user > 0)) return;
      state.users = state.users.filter((x) => x.user !== u.user).concat(u);
      state.current = u.user;
      saveUsers();
      this.hidePopup();
      panes.forEach((p) => p.renderHead());
      this.connect();
    });
    this.showPopup(form);
    name.focus();
  }

  connect() {
    if (this.source) this.source.close();
    this.messages = [];
    this.keyboard = null;
    this.replyTo = 0;
    this.renderAll();
    const src = new EventSource("/playground/events?" + this.chatQuery());
    this.source = src;
    const data = (e) => JSON.parse(e.data);
    src.addEventListener("snapshot", (e) => {
      const s = data(e);
      this.messages = s.messages || [];
      this.keyboard = s.keyboard;
      this.keyboardShown = true;
      this.status.textContent = "";
      this.renderAll();
    });
    src.addEventListener("message", (e) => this.upsert(data(e).message));
    src.addEventListener("delete", (e) => {
      const id = data(e).message_id;
      this.messages = this.messages.filter((m) => m.message_id !== id);
      this.list.querySelector(`[data-id="${id}"]`)?.remove();
    });
    src.addEventListener("keyboard", (e) => {
      this.keyboard = data(e).keyboard || null;
      this.keyboardShown = true;
      this.renderKeyboard();
    });
    src.addEventListener("answer", (e) => {
      const a = data(e);
      this.root.querySelectorAll(".loading").forEach((b) => b.classList.remove("loading"));
      if (a.text && a.alert) showModal(a.text);
      else if (a.text) this.toast(a.text);
    });
    src.addEventListener("typing", () => {
      this.status.textContent = T("typing");
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => (this.status.textContent = ""), 5000);
    });
    src.onerror = () => {
      if (src.readyState !== EventSource.OPEN) this.status.textContent = T("offline");
    };
  }

  upsert(m) {
    const i = this.messages.findIndex((x) => x.message_id === m.message_id);
    if (i >= 0) this.messages[i] = m;
    else {
      this.messages.push(m);
      this.messages.sort((a, b) => a.message_id - b.message_id);
    }
    if (m.topic) this.renderTopics();
    const old = this.list.querySelector(`[data-id="${m.message_id}"]`);
    const node = this.visible(m) ? this.renderMessage(m) : null;
    if (old && node) old.replaceWith(node);
    else if (old) old.remove();
    else if (node) {
      const after = [...this.list.children].find((c) => Number(c.dataset.id) > m.message_id);
      this.list.insertBefore(node, after || null);
      this.list.querySelector(".empty")?.remove();
      this.scrollDown();
    }
    if (this.status.textContent === T("typing") && !m.from) this.status.textContent = "";
  }

  visible(m) {
    return this.thread < 0 || (m.thread || 0) === this.thread;
  }

  scrollDown() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  renderAll() {
    this.renderTopics();
    const shown = this.messages.filter((m) => this.visible(m));
    this.list.replaceChildren(...shown.map((m) => this.renderMessage(m)));
    if (!shown.length) this.list.append(el("p.empty", {}, T(this.kind === "staff" ? "emptyStaff" : "empty")));
    this.renderKeyboard();
    this.renderReplyBar();
    this.scrollDown();
  }

  renderTopics() {
    if (this.kind !== "staff") {
      this.topics.classList.add("hidden");
      return;
    }
    const chip = (thread, label, cls) => el("button.chip" + (cls || "") + (this.thread === thread ? ".active" : ""),
      { type: "button", "data-thread": thread, onclick: () => this.openTopic(thread) }, label);
    this.topics.replaceChildren(chip(-1, T("all")), chip(0, T("general")),
      ...this.messages.filter((m) => m.topic).map((m) => chip(m.thread, "💬 " + m.topic, ".topic")));
  }

  openTopic(thread) {
    this.thread = thread;
    this.replyTo = 0;
    this.renderAll();
  }

  topicName(thread) {
    return this.messages.find((m) => m.topic && m.thread === thread)?.topic;
  }

  renderMessage(m) {
    const me = this.actor().user;
    if (m.topic) {
      return el("div.service", { "data-id": m.message_id }, el("span", { onclick: () => this.openTopic(m.thread) },
        `${T("topicCreated")}: ${m.topic}`));
    }
    const out = m.from && m.from.id === me;
    const bubble = el("div.bubble");
    if (m.from && !out && this.kind === "staff") bubble.append(el("div.sender", {}, m.from.name));
    if (!m.from && this.kind === "staff") bubble.append(el("div.sender.bot", {}, state.info.bot.name));
    if (this.thread < 0 && m.thread && this.topicName(m.thread)) {
      bubble.append(el("div.intopic", { onclick: () => this.openTopic(m.thread) }, "💬 " + this.topicName(m.thread)));
    }
    if (m.reply_to) {
      const q = this.messages.find((x) => x.message_id === m.reply_to);
      if (q) bubble.append(el("div.quote", {}, (q.from ? q.from.name : state.info.bot.name) + ": " + snippet(q)));
    }
    if (m.photo) bubble.append(el("div.media.photo", {}, "🖼 " + T("photo")));
    if (m.document) bubble.append(el("div.media.doc", {}, "📄 " + m.document));
    if (m.sticker) bubble.append(el("div.sticker", {}, "🐼"));
    if (m.contact) bubble.append(el("div.media.contact", {}, "📞 " + m.contact));
    if (m.location) bubble.append(el("div.media", {}, `📍 ${m.location.lat.toFixed(4)}, ${m.location.lon.toFixed(4)}`));
    if (m.text) {
      const text = el("div.text");
      text.innerHTML = formatted(m.text, m.entities);
      bubble.append(text);
    }
    bubble.append(el("div.meta", {}, m.edited ? el("span", {}, T("edited")) : null,
      el("button.replybtn", { type: "button", title: T("reply"), onclick: () => this.setReply(m.message_id) }, "↩")));
    const row = el("div.msg" + (out ? ".out" : ".in"), { "data-id": m.message_id }, bubble);
    if (m.keyboard) {
      row.append(el("div.ikb", {}, m.keyboard.map((r) => el("div.kbrow", {}, r.map((b) => this.inlineButton(m, b))))));
    }
    return row;
  }

  inlineButton(m, b) {
    const btn = el("button.ikbtn", { type: "button", "data-cb": b.callback_data, "data-url": b.url }, b.text);
    btn.addEventListener("click", async () => {
      if (b.callback_data) {
        btn.classList.add("loading");
        setTimeout(() => btn.classList.remove("loading"), 10000);
        await this.call("/playground/tap", { message_id: m.message_id, data: b.callback_data });
      } else if (b.url) {
        const start = deepLink(b.url);
        if (start !== null) this.scan(b.url);
        else window.open(b.url, "_blank", "noopener");
      }
    });
    return btn;
  }

  renderKeyboard() {
    const kb = this.keyboard;
    this.kbToggle.classList.toggle("hidden", !kb);
    if (!kb || !this.keyboardShown) {
      this.replyKb.replaceChildren();
      return;
    }
    this.replyKb.replaceChildren(...kb.rows.map((r) => el("div.kbrow", {}, r.map((b) => {
      const kind = b.request_contact ? "contact" : b.request_location ? "location" : "text";
      return el("button.rkbtn", { type: "button", "data-kind": kind, onclick: () => this.pressReply(b, kind) }, b.text);
    }))));
  }

  toggleKeyboard() {
    this.keyboardShown = !this.keyboardShown;
    this.renderKeyboard();
  }

  async pressReply(b, kind) {
    if (kind === "location") {
      this.openLocations();
      return;
    }
    if (this.keyboard && this.keyboard.one_time) {
      this.keyboardShown = false;
      this.renderKeyboard();
    }
    if (kind === "contact") await this.sendContact();
    else await this.send({ text: b.text });
  }

  // send posts a message of the pane's actor, in the open topic and as a reply when set.
  async send(fields) {
    const body = { ...fields };
    if (this.kind === "staff") {
      body.staff = true;
      if (this.thread > 0) body.thread = this.thread;
    }
    if (this.replyTo) body.reply_to = this.replyTo;
    const ok = await this.call("/playground/send", body);
    if (ok) {
      this.replyTo = 0;
      this.renderReplyBar();
    }
    return ok;
  }

  async call(path, fields) {
    const u = this.actor();
    try {
      await post(path, { user: u.user, name: u.name, lang: u.lang, ...fields });
      return true;
    } catch (err) {
      this.toast(T("failed") + err.message);
      return false;
    }
  }

  async sendText() {
    const text = this.input.value.trim();
    if (!text) return;
    // "@bot words" is an inline query, as in Telegram: it goes to the bot, not the chat.
    const bot = "@" + ((state.info && state.info.bot && state.info.bot.username) || "");
    if (this.kind === "user" && bot.length > 1 && text.startsWith(bot + " ")) {
      this.input.value = "";
      await this.inlineQuery(text.slice(bot.length).trim());
      return;
    }
    if (await this.send({ text })) this.input.value = "";
  }

  sendContact() {
    const u = this.actor();
    const phone = u.phone || "+86138" + String(u.user % 100000000).padStart(8, "0");
    return this.send({ contact: { phone } });
  }

  scan(link) {
    const start = deepLink(link.trim());
    if (start) this.send({ text: "/start " + start });
  }

  sendFile() {
    const f = this.file.files[0];
    if (!f) return;
    const caption = this.input.value.trim();
    const fields = this.file.accept.startsWith("image") ? { photo: true } : { document: f.name };
    if (caption) fields.text = caption;
    this.send(fields).then((ok) => ok && (this.input.value = ""));
    this.file.value = "";
  }

  showPopup(content) {
    this.popup.replaceChildren(content);
    this.popup.classList.remove("hidden");
  }

  hidePopup() {
    this.popup.classList.add("hidden");
  }

  popupList(items) {
    const list = el("div.list", {}, items.map(([label, action, attrs]) =>
      el("button", { type: "button", ...(attrs || {}), onclick: () => { this.hidePopup(); action(); } }, label)));
    list.append(el("button.close", { type: "button", onclick: () => this.hidePopup() }, T("cancel")));
    this.showPopup(list);
  }

  async openMenu() {
    const u = this.actor();
    const resp = await fetch(`/playground/commands?${this.chatQuery()}&lang=${encodeURIComponent(u.lang || "")}`);
    const cmds = resp.ok ? (await resp.json()).commands : [];
    if (!cmds.length) {
      this.toast(T("noCommands"));
      return;
    }
    this.popupList(cmds.map((c) => [el("span", {}, el("b", {}, "/" + c.command), " " + c.description),
      () => this.send({ text: "/" + c.command }), { "data-command": c.command }]));
  }

  openAttach() {
    const pick = (accept) => () => {
      this.file.accept = accept;
      this.file.click();
    };
    this.popupList([
      ["🖼 " + T("photo"), pick("image/*"), { "data-attach": "photo" }],
      ["📄 " + T("document"), pick("*/*"), { "data-attach": "document" }],
      ["📍 " + T("location"), () => this.openLocations(), { "data-attach": "location" }],
      ["📞 " + T("contact"), () => this.sendContact(), { "data-attach": "contact" }],
      ["🐼 " + T("sticker"), () => this.send({ sticker: true }), { "data-attach": "sticker" }],
      ["🔎 " + T("inline"), () => {
        this.input.value = "@" + state.info.bot.username + " ";
        this.input.focus();
      }, { "data-attach": "inline" }],
    ]);
  }

  // inlineQuery asks the bot in inline mode, as typing "@bot words" in any chat does
  // (the composer takes it so, and the attach menu starts it), and lists its answer;
  // picking a card opens it in the bot, as its button does in Telegram.
  async inlineQuery(query) {
    if (!query) return;
    const u = this.actor();
    try {
      const { id } = await post("/playground/inline", { user: u.user, name: u.name, lang: u.lang, query });
      for (let i = 0; i < 50; i++) {
        const resp = await fetch("/playground/inline?id=" + encodeURIComponent(id));
        if (resp.status === 200) {
          const { results } = await resp.json();
          if (!results.length) {
            this.toast(T("inlineNone"));
            return;
          }
          this.popupList(results.map((r) => [el("span", {}, el("b", {}, r.title), r.description ? " — " + r.description : ""), () => {
            const start = r.url ? deepLink(r.url) : null;
            if (start) this.send({ text: "/start " + start });
          }, { "data-inline": r.title }]));
          return;
        }
        await new Promise((ok) => setTimeout(ok, 200));
      }
      this.toast(T("inlineNone"));
    } catch (e) {
      showModal(e.message);
    }
  }

  openLocations() {
    const items = state.info.points.map((p) => ["📍 " + ((ui === "en" && p.name_en) || p.name),
      () => this.send({ location: { lat: p.lat, lon: p.lon } }), { "data-point": p.id }]);
    items.push(["✏️ " + T("custom"), () => {
      const raw = prompt(T("coords"), "41.7697,123.4556");
      const [lat, lon] = (raw || "").split(",").map(Number);
      if (Number.isFinite(lat) && Number.isFinite(lon)) this.send({ location: { lat, lon } });
    }]);
    this.popupList(items);
  }

  setReply(id) {
    this.replyTo = id;
    this.renderReplyBar();
    this.input.focus();
  }

  renderReplyBar() {
    const q = this.messages.find((m) => m.message_id === this.replyTo);
    this.replyBar.classList.toggle("hidden", !q);
    if (!q) return;
    this.replyBar.replaceChildren(el("span", {}, T("replyingTo") + snippet(q)),
      el("button.icon", { type: "button", onclick: () => this.setReply(0) }, "✕"));
  }

  toast(text) {
    const t = el("div.toast", {}, text);
    this.root.append(t);
    setTimeout(() => t.remove(), 3000);
  }
}

function snippet(m) {
  const s = m.text || (m.photo ? "🖼" : m.document ? "📄 " + m.document : m.sticker ? "🐼" : m.contact ? "📞" : m.location ? "📍" : "");
  return s.length > 40 ? s.slice(0, 40) + "…" : s;
}

// deepLink returns the start parameter of a t.me link (or the text itself when it is not
// a link), or null for another link.
function deepLink(text) {
  if (!/^(https?:\/\/)?t\.me\//i.test(text) && !/^https?:/i.test(text)) return text;
  try {
    const url = new URL(/^https?:/i.test(text) ? text : "https://" + text);
    return url.hostname === "t.me" ? url.searchParams.get("start") : null;
  } catch {
    return null;
  }
}

// ---- the page ----

let panes = [];

function applyLocale() {
  document.documentElement.lang = ui === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("header [data-t]").forEach((e) => (e.textContent = T(e.dataset.t)));
  document.getElementById("ui-lang").textContent = ui === "zh" ? "EN" : "中文";
  document.title = T("title");
  panes.forEach((p) => {
    p.renderHead();
    p.renderAll();
  });
}

async function start() {
  try {
    const [info, texts] = await Promise.all([fetch("/playground/info"), fetch("/playground/web/locales.json")]);
    if (info.ok) state.info = await info.json();
    if (texts.ok) LOCALES = await texts.json();
  } catch {
    // The page still works with the defaults; the streams will report the server missing.
  }
  for (const u of state.info.users || []) {
    if (!state.users.some((x) => x.user === u.user)) state.users.push({ user: u.user, name: u.name, lang: u.lang });
  }
  panes = [new Pane(document.getElementById("user-pane"), "user"), new Pane(document.getElementById("staff-pane"), "staff")];
  applyLocale();
  panes.forEach((p) => p.connect());
  document.getElementById("ui-lang").addEventListener("click", () => {
    ui = ui === "zh" ? "en" : "zh";
    localStorage.setItem("bangban.ui", ui);
    applyLocale();
  });
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => {
    document.querySelector("main").className = "show-" + b.dataset.show;
    document.querySelectorAll(".tabs button").forEach((x) => x.classList.toggle("active", x === b));
  }));
  document.querySelector("#modal button").addEventListener("click", () => document.getElementById("modal").classList.add("hidden"));
}

start();
