// The agent desk: renders the screen pop from the server's event stream (/desk/events).
// Text only (textContent): nothing from a call record is ever read as HTML.
"use strict";
(function () {
  const pop = document.getElementById("pop");
  const wrap = document.getElementById("wrap");
  const presence = document.getElementById("presence");
  // The page's words in the user's language (the template's catalogs); codes stay codes.
  const words = JSON.parse(document.getElementById("desk-words").textContent);
  const t = (word) => words[word] || word;

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    return node;
  }

  function row(list, label, value, id) {
    if (value === undefined || value === null || value === "") return;
    const item = el("li", null, id ? { id: id } : {});
    item.append(el("b", label + ": "), el("span", value));
    list.append(item);
  }

  function section(title, items, render) {
    if (!items || items.length === 0) return null;
    const box = el("div");
    box.append(el("h3", title));
    const list = el("ul");
    for (const item of items) list.append(el("li", render(item)));
    box.append(list);
    return box;
  }

  function render(state) {
    const p = state.presence;
    presence.textContent = t(p.state) + (p.reason ? " (" + t(p.reason) + ")" : "");
    presence.dataset.state = p.state;
    pop.replaceChildren();
    const call = state.pop;
    if (!call) {
      pop.append(el("p", t("No call."), { id: "no-call" }));
      wrap.hidden = true;
      return;
    }
    pop.dataset.call = call.call_id;
    pop.dataset.state = call.state;
    pop.append(el("h2", t(call.state === "ringing" ? "Ringing" : call.state === "answered" ? "On the call" : "Call ended")));
    const facts = el("ul", null, { id: "facts" });
    row(facts, t("Caller"), call.caller, "caller");
    row(facts, t("Verified"), call.verified + (call.verify_failures ? " (" + call.verify_failures + " " + t("wrong") + ")" : ""), "verified");
    row(facts, t("Language"), call.language, "language");
    row(facts, t("Wants"), call.intent, "intent");
    row(facts, t("Queue"), call.queue);
    row(facts, t("Waited"), call.waited_s !== null && call.waited_s !== undefined ? call.waited_s + " " + t("s") : null);
    row(facts, t("Flags"), (call.flags || []).join(", "), "flags");
    row(facts, t("In the IVR"), (call.path || []).join(" → "), "path");
    pop.append(facts);
    const customer = call.customer;
    if (customer) {
      const box = el("div", null, { id: "customer" });
      box.append(el("h3", t("Customer") + " " + customer.id + (customer.vip ? " · VIP" : "")));
      const accounts = el("ul", null, { id: "accounts" });
      for (const a of customer.accounts) {
        let text = a.kind + " " + a.account + " " + a.status;
        if (a.balance) text += ", " + t("balance") + " " + a.balance;
        if (a.minimum_due) text += ", " + t("minimum") + " " + a.minimum_due;
        if (a.due_date) text += ", " + t("due") + " " + a.due_date;
        if (a.days_overdue) text += ", " + t("overdue") + " " + a.days_overdue + " " + t("days") + " (" + (a.overdue_amount || "?") + ")";
        accounts.append(el("li", text));
      }
      box.append(accounts);
      if (customer.arrears_reason) box.append(el("p", t("Reason for arrears") + ": " + customer.arrears_reason, { id: "arrears" }));
      for (const part of [
        section(t("Promises to pay"), customer.promises, (x) => x.amount + " " + t("by") + " " + x.pay_by + " (" + x.status + ")"),
        section(t("Notes"), customer.notes, (x) => x.at + " " + x.agent + " " + x.disposition + (x.notes ? ": " + x.notes : "")),
      ]) if (part) box.append(part);
      pop.append(box);
    }
    for (const part of [
      section(t("Earlier calls"), call.history, (x) => (x.at || "") + " " + (x.intent || "") + " → " + (x.outcome || "") + (x.disposition ? " (" + x.disposition + ")" : "")),
      section(t("Open complaints"), call.complaints, (x) => x.ticket + " " + t(x.category) + " " + t(x.status) + ", " + t("reply by") + " " + x.reply_due + (x.overdue.length ? " " + t("OVERDUE") : "")),
      section(t("Callbacks booked"), call.callbacks, (x) => x.queue + " " + t("from") + " " + x.not_before + " (" + x.status + ")"),
    ]) if (part) pop.append(part);
    const ended = call.state === "answered" || call.state === "completed";
    wrap.hidden = !ended;
    if (ended) {
      document.getElementById("wrap-call").value = call.call_id;
      for (const input of document.querySelectorAll(".action-call")) input.value = call.call_id;
    }
  }

  render(JSON.parse(document.getElementById("desk-state").textContent));
  const events = new EventSource("/desk/events");
  events.onmessage = (message) => render(JSON.parse(message.data));
  events.addEventListener("signed-out", () => { events.close(); window.location = "/login"; });
})();
