// The transcript workbench (issue 16, items 1, 2 and 4): a Streamlit components v2 component
// with no build step. Select words to code them; click a coded passage for its codings; accept
// or reject suggestions where they are; margin bars per code (and coder); previous / next
// coded passage; a turn brought into view on request.
//
// Every piece of user data (transcript text, speakers, code names, coders, memos) goes into
// the page as text: textContent, text nodes, title and aria-label attributes. Never innerHTML.
// Positions sent back are [turn number, UTF-16 offset into that turn's text]: Python turns
// them into code points of the stored text (coding/project/selection.py).

const LANES = 16;
const SHOWN_SUGGESTIONS = 3;  // per turn; the rest behind "+N more suggestions"

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function button(label, cls, act, id, title) {
  const node = el("button", "btn " + (cls || ""), label);
  node.type = "button";
  node.dataset.act = act;
  if (id !== undefined) node.dataset.id = String(id);
  if (title) {
    node.setAttribute("title", title);
    node.setAttribute("aria-label", title);
  }
  return node;
}

function shorten(text, limit) {
  const flat = String(text).replace(/\s+/g, " ").trim();
  return flat.length > limit ? flat.slice(0, limit - 1) + "…" : flat;
}

class Workbench {
  constructor(host) {
    this.host = host;
    this.root = el("div", "wb");
    this.bar = el("div", "toolbar");
    this.prevButton = button("◀ Previous coded passage", "", "prev", undefined,
      "Previous coded passage");
    this.nextButton = button("Next coded passage ▶", "", "next", undefined,
      "Next coded passage");
    this.hint = el("span", "hint",
      "Select words to code them · click a coded passage for its codings");
    this.status = el("span", "status");
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    this.bar.append(this.prevButton, this.nextButton, this.hint, this.status);
    this.view = el("table", "transcript");
    const columns = el("colgroup");
    for (const name of ["c-margin", "c-num", "c-who", "c-text", "c-side"]) {
      columns.append(el("col", name));
    }
    this.body = el("tbody");
    this.view.append(columns, this.body);
    this.picker = el("div", "picker hidden");
    this.picker.setAttribute("role", "dialog");
    this.pickerTitle = el("div", "picker-title");
    this.input = el("input", "picker-input");
    this.input.type = "text";
    this.input.setAttribute("aria-label", "Code name");
    this.input.placeholder = "Type a code's name, Enter to apply";
    this.list = el("ul", "picker-list");
    this.list.setAttribute("role", "listbox");
    this.picker.append(this.pickerTitle, this.input, this.list);
    this.pop = el("div", "pop hidden");
    this.pop.setAttribute("role", "dialog");
    this.root.append(this.bar, this.view, this.picker, this.pop);
    host.appendChild(this.root);
    this.focusNonce = null;
    this.noticeNonce = null;
    this.current = null;
    this.expanded = new Set();
    this.listen();
  }

  listen() {
    // Streamlit's own shortcuts (r: rerun, c: clear caches) must not see the coder's typing.
    for (const kind of ["keydown", "keyup", "keypress"]) {
      this.root.addEventListener(kind, (event) => {
        if (kind === "keydown") this.onKey(event);
        event.stopPropagation();
      });
    }
    this.view.addEventListener("mouseup", (event) => {
      if (event.button !== 0 || event.target.closest(".btn, .side")) return;
      // read now: once the event is dispatched, its target is the shadow root's host
      const seg = event.target.closest(".seg");
      setTimeout(() => this.onSelect(seg), 0);
    });
    this.view.addEventListener("mousedown", (event) => {
      if (!event.target.closest(".btn")) this.closeAll();
    });
    this.root.addEventListener("click", (event) => {
      const target = event.target.closest("[data-act]");
      if (target && this.root.contains(target)) this.onAct(target, event);
    });
    this.input.addEventListener("input", () => this.fillList());
    if (typeof ResizeObserver !== "undefined") {
      this.resize = new ResizeObserver(() => this.layoutBars());
      this.resize.observe(this.view);
    }
  }

  send(payload) {
    this.status.classList.remove("error");
    this.status.textContent = "Saving…";
    this.closeAll();
    this.trigger("action", Object.assign({ t: Date.now() + Math.random() }, payload));
  }

  // -- drawing -------------------------------------------------------------------------------
  render(data) {
    this.data = data;
    this.codes = new Map(data.codes.map(([id, name, colour, ink]) => [id, { id, name, colour, ink }]));
    this.byTurn = new Map();
    const rawByTurn = new Map();
    data.codings.forEach((row, index) => {
      const [id, seq, a, b, code, coder, status, score] = row;
      const piece = { index, id, seq, a, b, code, coder, status, score, first: null, last: null };
      if (!this.byTurn.has(seq)) {
        this.byTurn.set(seq, []);
        rawByTurn.set(seq, []);
      }
      this.byTurn.get(seq).push(piece);
      rawByTurn.get(seq).push(row);
    });
    // A turn whose text, codings and marks are what they were keeps its row: after a coding,
    // only the turns it touched are drawn again, so the browser lays out little.
    const looks = JSON.stringify([data.codes, data.several_coders]);
    if (looks !== this.looks || !this.drawn) {
      this.looks = looks;
      this.drawn = new Map();
    }
    const focused = data.focus ? data.focus[0] : null;
    this.memos = new Map();
    for (const [codingId, author, text] of data.memos || []) {
      if (!this.memos.has(codingId)) this.memos.set(codingId, []);
      this.memos.get(codingId).push([author, text]);
    }
    const laneOf = new Map();
    this.passages = [];
    this.rows = new Map();
    const drawn = new Map();
    const rows = data.turns.map((turn) => {
      const seq = turn[0];
      const key = JSON.stringify([turn, rawByTurn.get(seq) || [], focused === seq]);
      const kept = this.drawn.get(seq);
      let found;
      if (kept && kept.key === key) {
        found = kept;
        this.byTurn.set(seq, kept.pieces);
        this.rows.set(seq, kept);
      } else {
        found = { key, ...this.drawTurn(turn) };
      }
      drawn.set(seq, found);
      for (const p of found.pieces) {
        if (p.status === "suggested" || !p.first) continue;
        this.passages.push(p);
        const lane = this.data.several_coders ? p.code + "\u0000" + p.coder : p.code;
        if (!laneOf.has(lane)) laneOf.set(lane, laneOf.size);
        p.lane = laneOf.get(lane) % LANES;
      }
      return found.row;
    });
    this.drawn = drawn;
    this.lanes = laneOf;
    const width = Math.min(laneOf.size, LANES) * 5 + 6;
    this.root.style.setProperty("--margin", width + "px");
    if (!rows.length) {
      const cell = el("td", "empty", data.empty || "No turns to show.");
      cell.colSpan = 5;
      const row = el("tr");
      row.append(cell);
      rows.push(row);
    }
    const keep = new Set(rows);
    for (const child of [...this.body.children]) if (!keep.has(child)) child.remove();
    let next = this.body.firstChild;
    for (const row of rows) {
      if (row === next) next = next.nextSibling;
      else this.body.insertBefore(row, next);
    }
    this.closeAll();
    this.status.textContent = "";
    if (data.notice && data.notice[1] !== this.noticeNonce) {
      this.noticeNonce = data.notice[1];
      this.status.textContent = data.notice[0];
      this.status.classList.toggle("error", data.notice[2] === "error");
      const shown = this.noticeNonce;
      setTimeout(() => { if (this.noticeNonce === shown) this.status.textContent = ""; }, 6000);
    }
    this.current = null;
    requestAnimationFrame(() => {
      this.layoutBars();
      this.applyFocus();
    });
  }

  drawTurn(turn) {
    const [seq, speaker, role, text] = turn;
    const row = el("tr", "turn" + (role === "participant" ? " participant" : ""));
    row.dataset.seq = String(seq);
    row.id = "turn-" + seq;
    if (this.data.focus && this.data.focus[0] === seq) row.classList.add("focus");
    const margin = el("td", "margin");
    const number = el("td", "num", seq);
    const who = el("td", "who", speaker || "?");
    const body = el("td", "text");
    const side = el("td", "side");
    const chipBox = el("div", "chips");
    side.append(chipBox);
    const pieces = this.byTurn.get(seq) || [];
    const cuts = new Set([0, text.length]);
    for (const p of pieces) {
      cuts.add(Math.max(0, Math.min(text.length, p.a)));
      cuts.add(Math.max(0, Math.min(text.length, p.b)));
    }
    const sorted = [...cuts].sort((x, y) => x - y);
    for (let k = 0; k + 1 < sorted.length; k++) {
      const [x, y] = [sorted[k], sorted[k + 1]];
      const seg = el("span", "seg", text.slice(x, y));
      seg.dataset.o = String(x);
      const cover = pieces.filter((p) => p.a <= x && y <= p.b);
      seg.cover = cover;
      if (cover.length) {
        seg.dataset.codings = cover.map((p) => p.id).join(" ");
        const counted = cover.filter((p) => p.status !== "suggested");
        if (counted.length) {
          const inner = counted.reduce((best, p) =>
            (p.a > best.a || (p.a === best.a && p.b - p.a < best.b - best.a)) ? p : best);
          const code = this.codes.get(inner.code);
          seg.classList.add("coded");
          if (code) {
            seg.style.backgroundColor = code.colour;
            seg.style.color = code.ink;
          }
          if (new Set(counted.map((p) => p.code)).size > 1) seg.classList.add("multi");
        }
        if (cover.some((p) => p.status === "suggested")) seg.classList.add("sugg");
        for (const p of cover) {
          if (!p.first) p.first = seg;
          p.last = seg;
        }
      }
      body.append(seg);
    }
    const chips = new Set();
    const suggestions = pieces.filter((p) => p.status === "suggested")
      .sort((x, y) => (y.score ?? 0) - (x.score ?? 0));
    const rank = new Map(suggestions.map((p, k) => [p, k]));
    const ranked = [];  // suggestion chips, highest score first
    for (const p of pieces) {
      const code = this.codes.get(p.code) || { name: p.code, colour: "#e5e7eb", ink: "#000" };
      if (p.status === "suggested") {
        const chip = el("span", "chip suggestion");
        chip.dataset.id = String(p.id);
        const label = el("span", "label", code.name);
        const score = el("span", "score", p.score === null ? "" : Number(p.score).toFixed(2));
        score.setAttribute("title", "the suggester's score");
        chip.append(label, score,
          button("✓", "accept", "accept", p.id, "Accept suggestion: " + code.name),
          button("✗", "reject", "reject", p.id, "Reject suggestion: " + code.name));
        chip.addEventListener("mouseenter", () => this.mark(p, true));
        chip.addEventListener("mouseleave", () => this.mark(p, false));
        if (rank.get(p) >= SHOWN_SUGGESTIONS) chip.classList.add("extra");
        ranked[rank.get(p)] = chip;
        continue;
      }
      if (!chips.has(p.code)) {
        chips.add(p.code);
        const chip = el("span", "chip", code.name);
        chip.style.backgroundColor = code.colour;
        chip.style.color = code.ink;
        chipBox.prepend(chip);
      }
    }
    chipBox.append(...ranked);
    if (suggestions.length > SHOWN_SUGGESTIONS) {
      const more = suggestions.length - SHOWN_SUGGESTIONS;
      const open = this.expanded.has(seq);
      const toggle = button(open ? "Fewer suggestions" : "+" + more + " more suggestions",
        "more", "more", seq);
      if (open) row.classList.add("expanded");
      chipBox.append(toggle);
    }
    row.append(margin, number, who, body, side);
    const drawn = { row, margin, pieces };
    this.rows.set(seq, drawn);
    return drawn;
  }

  mark(piece, on) {
    for (const seg of this.view.querySelectorAll(".seg")) {
      if (seg.cover && seg.cover.includes(piece)) seg.classList.toggle("marked", on);
    }
  }

  layoutBars() {
    // every position read first, then every bar written: reading after a write would make
    // the browser lay the page out again for each turn
    if (!this.rows) return;
    const plans = [];
    for (const { row, margin, pieces } of this.rows.values()) {
      const top = row.getBoundingClientRect().top;
      const bars = [];
      for (const p of pieces) {
        if (p.status === "suggested" || !p.first) continue;
        const a = p.first.getBoundingClientRect();
        const b = p.last.getBoundingClientRect();
        bars.push([p, Math.max(0, a.top - top), Math.max(4, b.bottom - a.top)]);
      }
      plans.push([margin, bars]);
    }
    for (const [margin, bars] of plans) {
      margin.replaceChildren(...bars.map(([p, top, height]) => {
        const bar = el("span", "lane");
        const code = this.codes.get(p.code);
        bar.style.left = p.lane * 5 + 2 + "px";
        bar.style.top = top + "px";
        bar.style.height = height + "px";
        bar.style.backgroundColor = code ? code.colour : "#94a3b8";
        bar.setAttribute("title", (code ? code.name : p.code) + " · " + p.coder);
        bar.dataset.code = p.code;
        bar.dataset.coder = p.coder;
        return bar;
      }));
    }
  }

  applyFocus() {
    const focus = this.data.focus;
    if (!focus || focus[1] === this.focusNonce) return;
    this.focusNonce = focus[1];
    const found = this.rows.get(focus[0]);
    if (found) {
      found.row.scrollIntoView({ block: "center" });
      found.row.classList.add("flash");
      setTimeout(() => found.row.classList.remove("flash"), 1600);
    }
  }

  // -- selecting and coding ------------------------------------------------------------------
  selectionRange() {
    const host = this.host;
    let selection = null;
    if (host.getSelection) selection = host.getSelection();  // Chromium: a shadow root's own
    if ((!selection || !selection.rangeCount) && document.getSelection) {
      selection = document.getSelection();
      if (selection && selection.getComposedRanges && host instanceof ShadowRoot) {
        const found = selection.getComposedRanges({ shadowRoots: [host] });
        if (found.length && !found[0].collapsed) {
          const range = document.createRange();
          range.setStart(found[0].startContainer, found[0].startOffset);
          range.setEnd(found[0].endContainer, found[0].endOffset);
          return range;
        }
        return null;
      }
    }
    if (!selection || !selection.rangeCount || selection.isCollapsed) return null;
    return selection.getRangeAt(0);
  }

  position(node, offset, isEnd) {
    // [turn, UTF-16 offset in its text] of a selection boundary; a boundary outside the
    // transcript text (a speaker label, a turn number) moves to the nearest text inside it
    if (node.nodeType === Node.TEXT_NODE && node.parentNode.classList &&
        node.parentNode.classList.contains("seg")) {
      const seg = node.parentNode;
      return [Number(seg.closest(".turn").dataset.seq), Number(seg.dataset.o) + offset];
    }
    const point = document.createRange();
    point.setStart(node, offset);
    const segs = [...this.view.querySelectorAll(".seg")];
    if (!isEnd) {
      for (const seg of segs) {
        if (seg.firstChild && point.comparePoint(seg.firstChild, 0) >= 0) {
          return [Number(seg.closest(".turn").dataset.seq), Number(seg.dataset.o)];
        }
      }
    } else {
      for (let k = segs.length - 1; k >= 0; k--) {
        const text = segs[k].firstChild;
        if (text && point.comparePoint(text, text.length) <= 0) {
          return [Number(segs[k].closest(".turn").dataset.seq),
            Number(segs[k].dataset.o) + text.length];
        }
      }
    }
    return null;
  }

  selectedText(start, end) {
    const parts = [];
    for (const [seq, , , text] of this.data.turns) {
      if (seq < start[0] || seq > end[0]) continue;
      const a = seq === start[0] ? start[1] : 0;
      const b = seq === end[0] ? end[1] : text.length;
      if (b > a) parts.push(text.slice(a, b).trim());
    }
    return parts.filter(Boolean).join(" … ");
  }

  onSelect(seg) {
    const range = this.selectionRange();
    if (range && this.view.contains(range.commonAncestorContainer.nodeType === 1 ?
      range.commonAncestorContainer : range.commonAncestorContainer.parentNode)) {
      const start = this.position(range.startContainer, range.startOffset, false);
      const end = this.position(range.endContainer, range.endOffset, true);
      if (start && end && (start[0] < end[0] || (start[0] === end[0] && start[1] < end[1]))) {
        const words = this.selectedText(start, end);
        if (words) {
          this.openPicker({ mode: "code", start, end, words }, range.getBoundingClientRect());
          return;
        }
      }
    }
    if (seg && seg.cover && seg.cover.length) this.openPopover(seg);
  }

  place(box, rect) {
    const outer = this.root.getBoundingClientRect();
    box.classList.remove("hidden");
    const width = box.offsetWidth || 320;
    const left = Math.max(0, Math.min(rect.left - outer.left, outer.width - width - 4));
    box.style.left = left + "px";
    box.style.top = (rect.bottom - outer.top + 6) + "px";
  }

  openPicker(job, rect) {
    this.closeAll();
    this.job = job;
    this.input.value = "";
    if (job.mode === "code") {
      this.pickerTitle.textContent = "Code “" + shorten(job.words, 90) + "” as:";
    } else {
      this.pickerTitle.textContent = "Recode “" + job.name + "” as:";
    }
    this.fillList();
    this.place(this.picker, rect);
    this.input.focus({ preventScroll: true });
  }

  options() {
    const typed = this.input.value.trim();
    const folded = typed.toLocaleLowerCase();
    const all = this.data.codes.map(([id]) => this.codes.get(id));
    const recent = (this.data.recent || []).map((id) => this.codes.get(id)).filter(Boolean);
    const options = [];
    if (!typed) {
      const seen = new Set(recent.map((c) => c.id));
      for (const code of recent) options.push({ code, group: "Recent" });
      for (const code of all) if (!seen.has(code.id)) options.push({ code, group: "All codes" });
    } else {
      const hits = all.filter((c) => c.name.toLocaleLowerCase().includes(folded) ||
        c.id.toLocaleLowerCase().includes(folded));
      const rank = (c) => (this.data.recent || []).indexOf(c.id);
      hits.sort((x, y) => {
        const px = x.name.toLocaleLowerCase().startsWith(folded) ? 0 : 1;
        const py = y.name.toLocaleLowerCase().startsWith(folded) ? 0 : 1;
        const rx = rank(x) < 0 ? 999 : rank(x);
        const ry = rank(y) < 0 ? 999 : rank(y);
        return px - py || rx - ry;
      });
      for (const code of hits) options.push({ code });
    }
    if (this.job && this.job.mode === "code" && this.data.can_add) {
      const exact = all.some((c) => c.name.toLocaleLowerCase() === folded);
      if (typed && !exact) {
        options.push({ create: typed, label: "+ New code “" + shorten(typed, 60) + "”" });
      } else if (!typed) {
        const words = shorten(this.job.words, 60);
        options.push({ create: words, label: "+ New code from these words (in vivo): “" +
          words + "”" });
      }
    }
    return options;
  }

  fillList() {
    this.choices = this.options();
    this.active = 0;
    const items = [];
    let group = null;
    this.choices.forEach((option, k) => {
      if (option.group && option.group !== group) {
        group = option.group;
        items.push(el("li", "group", group));
      }
      const item = el("li", "option" + (option.create ? " create" : ""));
      item.setAttribute("role", "option");
      item.dataset.act = "choose";
      item.dataset.k = String(k);
      if (option.code) {
        const dot = el("span", "dot");
        dot.style.backgroundColor = option.code.colour;
        item.append(dot, document.createTextNode(option.code.name));
      } else {
        item.textContent = option.label;
      }
      items.push(item);
    });
    if (!this.choices.length) items.push(el("li", "group", "No code has that name"));
    this.list.replaceChildren(...items);
    this.highlight();
  }

  highlight() {
    for (const item of this.list.querySelectorAll(".option")) {
      const on = Number(item.dataset.k) === this.active;
      item.classList.toggle("active", on);
      item.setAttribute("aria-selected", on ? "true" : "false");
      if (on) item.scrollIntoView({ block: "nearest" });
    }
  }

  choose(k) {
    const option = this.choices && this.choices[k];
    const job = this.job;
    if (!option || !job) return;
    if (job.mode === "recode") {
      this.send({ kind: "recode", id: job.id, code: option.code.id });
    } else if (option.create) {
      this.send({ kind: "code", start: job.start, end: job.end, name: option.create });
    } else {
      this.send({ kind: "code", start: job.start, end: job.end, code: option.code.id });
    }
    const selection = this.host.getSelection ? this.host.getSelection() : null;
    if (selection) selection.removeAllRanges();
  }

  onKey(event) {
    if (event.key === "Escape") {
      this.closeAll();
      return;
    }
    if (event.target !== this.input) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const count = (this.choices || []).length;
      if (!count) return;
      this.active = (this.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      this.highlight();
      event.preventDefault();
    } else if (event.key === "Enter") {
      event.preventDefault();
      this.choose(this.active);
    }
  }

  // -- a coded passage's codings -------------------------------------------------------------
  openPopover(seg) {
    this.closeAll();
    const rows = [];
    const seen = new Set();
    for (const p of seg.cover) {
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      const code = this.codes.get(p.code) || { name: p.code, colour: "#e5e7eb" };
      const item = el("li", "coding");
      item.dataset.id = String(p.id);
      const dot = el("span", "dot");
      dot.style.backgroundColor = code.colour;
      const name = el("strong", "", code.name);
      const meta = p.status === "suggested"
        ? el("span", "meta", "suggested" + (p.score === null ? "" : " · " +
          Number(p.score).toFixed(2)))
        : el("span", "meta", p.coder);
      const actions = el("div", "actions");
      if (p.status === "suggested") {
        actions.append(button("Accept", "accept", "accept", p.id),
          button("Reject", "reject", "reject", p.id),
          button("Recode…", "", "recode", p.id));
      } else {
        actions.append(button("Recode…", "", "recode", p.id),
          button("Memo…", "", "memo", p.id),
          button("Remove", "remove", "remove", p.id));
      }
      item.append(dot, name, meta, actions);
      for (const [author, text] of this.memos.get(p.id) || []) {
        const memo = el("div", "memo");
        memo.append(el("span", "meta", author + ": "), document.createTextNode(text));
        item.append(memo);
      }
      rows.push(item);
    }
    const list = el("ul", "codings");
    list.append(...rows);
    this.pop.replaceChildren(el("div", "picker-title", "Codings here"), list);
    this.popRect = seg.getBoundingClientRect();
    this.place(this.pop, this.popRect);
  }

  piece(id) {
    for (const pieces of this.byTurn.values()) {
      for (const p of pieces) if (p.id === id) return p;
    }
    return null;
  }

  onAct(target, event) {
    const act = target.dataset.act;
    const id = target.dataset.id === undefined ? null : Number(target.dataset.id);
    event.preventDefault();
    if (act === "choose") return this.choose(Number(target.dataset.k));
    if (act === "prev" || act === "next") return this.step(act === "next" ? 1 : -1);
    if (act === "more") {
      const row = target.closest(".turn");
      const open = row.classList.toggle("expanded");
      if (open) this.expanded.add(id); else this.expanded.delete(id);
      const more = row.querySelectorAll(".chip.extra").length;
      target.textContent = open ? "Fewer suggestions" : "+" + more + " more suggestions";
      return;
    }
    if (act === "accept" || act === "reject" || act === "remove") {
      return this.send({ kind: act, id });
    }
    if (act === "recode") {
      const p = this.piece(id);
      const code = p && this.codes.get(p.code);
      const rect = this.popRect || target.getBoundingClientRect();
      return this.openPicker({ mode: "recode", id, name: code ? code.name : "" }, rect);
    }
    if (act === "memo") {
      const item = target.closest(".coding");
      if (item.querySelector("textarea")) return;
      const box = el("textarea", "memo-text");
      box.setAttribute("aria-label", "Memo on this coding");
      box.rows = 3;
      item.append(box, button("Save memo", "save", "save-memo", id),
        button("Cancel", "", "close"));
      box.focus();
      return;
    }
    if (act === "save-memo") {
      const box = target.closest(".coding").querySelector("textarea");
      if (box && box.value.trim()) this.send({ kind: "memo", id, text: box.value });
      return;
    }
    if (act === "close") this.closeAll();
  }

  closeAll() {
    this.picker.classList.add("hidden");
    this.pop.classList.add("hidden");
    this.job = null;
  }

  // -- moving about --------------------------------------------------------------------------
  step(direction) {
    const passages = this.passages.filter((p) => p.first &&
      (!this.data.step_code || p.code === this.data.step_code));
    if (!passages.length) {
      this.status.textContent = "No coded passage to go to.";
      return;
    }
    const line = this.bar.getBoundingClientRect().bottom + 8;
    let k;
    if (this.current !== null && passages[this.current]) {
      k = this.current + direction;
    } else if (direction > 0) {
      k = passages.findIndex((p) => p.first.getBoundingClientRect().top > line);
    } else {
      k = -1;
      passages.forEach((p, j) => { if (p.first.getBoundingClientRect().top < line) k = j; });
    }
    if (k < 0 || k >= passages.length) {
      this.status.textContent = direction > 0 ? "That was the last coded passage."
        : "That was the first coded passage.";
      return;
    }
    this.current = k;
    const p = passages[k];
    p.first.scrollIntoView({ block: "center" });
    this.mark(p, true);
    setTimeout(() => this.mark(p, false), 1400);
    const code = this.codes.get(p.code);
    this.status.textContent = "Passage " + (k + 1) + " of " + passages.length + ": " +
      (code ? code.name : p.code);
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let workbench = parentElement.__workbench;
  if (!workbench) {
    workbench = new Workbench(parentElement);
    parentElement.__workbench = workbench;
  }
  workbench.trigger = setTriggerValue;
  workbench.render(data);
}
