/*
 * motcua chat widget: the one-stop-shop assistant on any page, with one tag.
 *
 *   <script src="https://SERVER/webhooks/webchat/widget.js" defer
 *           data-title="Hỏi đáp thủ tục" data-color="#b71c1c" data-lang="vi"></script>
 *
 * data-server  base URL of the motcua server (default: where this script came from)
 * data-title   header title            data-color  theme colour (any CSS colour)
 * data-lang    "vi" (default) | "en"   data-open   "true" to start open (on a first visit;
 *                                       after that the citizen's own open/closed choice wins)
 *
 * Vanilla JavaScript, no build step, no third-party code. It talks to
 * POST {server}/webhooks/webchat/webhook {"sender", "message"} and gets a JSON
 * list of {"text", "buttons"?}. The sender id, the history (last 100 messages)
 * and unsent messages live in localStorage, so a reload or a dropped
 * connection neither loses a message nor turns the citizen into a new user.
 * Bot text is only ever inserted as text nodes (never innerHTML).
 */
(function () {
  "use strict";

  if (window.motcuaWidget) {
    return; // embedded twice on one page: the first one wins
  }

  var HISTORY_LIMIT = 100;
  var REQUEST_TIMEOUT_MS = 30000;
  var RETRY_MIN_MS = 1000;
  var RETRY_MAX_MS = 30000;
  var WEBHOOK_PATH = "/webhooks/webchat/webhook";
  var NOTICES_PATH = "/webhooks/webchat/notices";
  var CSS_PATH = "/webhooks/webchat/widget.css";
  var PREFIX = "mcw"; // every class and id of the widget starts with it

  var STRINGS = {
    vi: {
      title: "Hỏi đáp thủ tục hành chính",
      open: "Mở trợ lý hỏi đáp thủ tục",
      close: "Đóng",
      restart: "Cuộc trò chuyện mới",
      restartConfirm: "Xoá cuộc trò chuyện này và bắt đầu lại?",
      inputLabel: "Câu hỏi của bạn",
      placeholder: "Nhập câu hỏi, ví dụ: làm hộ chiếu cần gì?",
      send: "Gửi",
      you: "Bạn:",
      bot: "Trợ lý:",
      welcome:
        "Xin chào! Em có thể giúp anh/chị tìm hiểu thủ tục hành chính: giấy tờ cần có, " +
        "lệ phí, thời gian, nơi nộp, hoặc tra cứu tình trạng hồ sơ.",
      typing: "Trợ lý đang trả lời",
      choices: "Gợi ý trả lời",
      pending: "đang chờ gửi",
      failed: "chưa gửi được",
      reconnecting: "Mất kết nối, đang kết nối lại… Tin nhắn của bạn sẽ được gửi khi có mạng.",
      rejected: "Không gửi được tin nhắn (lỗi {status}).",
      forbidden: "Trang này chưa được phép dùng trợ lý (lỗi 403). Vui lòng báo quản trị trang.",
      badReply: "Trợ lý trả lời không đúng định dạng. Vui lòng thử lại sau.",
    },
    en: {
      title: "Public services help",
      open: "Open the public services assistant",
      close: "Close",
      restart: "New conversation",
      restartConfirm: "Delete this conversation and start again?",
      inputLabel: "Your question",
      placeholder: "Type a question, e.g. what do I need for a passport?",
      send: "Send",
      you: "You:",
      bot: "Assistant:",
      welcome:
        "Hello! I can help with administrative procedures: documents, fees, processing " +
        "time, where to apply, or the status of your application.",
      typing: "The assistant is typing",
      choices: "Suggested replies",
      pending: "waiting to send",
      failed: "not sent",
      reconnecting: "Connection lost, reconnecting… Your message will be sent when you are back online.",
      rejected: "The message could not be sent (error {status}).",
      forbidden: "This site is not allowed to use the assistant (error 403). Please tell the site's team.",
      badReply: "The assistant's reply was malformed. Please try again later.",
    },
  };

  /* ---------- configuration ---------- */

  var script = document.currentScript;
  var config = readConfig(script);
  var t = STRINGS[config.lang];

  function readConfig(el) {
    var data = (el && el.dataset) || {};
    var scriptUrl = el && el.src ? new URL(el.src, location.href) : null;
    var server = (data.server || (scriptUrl ? scriptUrl.origin : location.origin)).replace(/\/+$/, "");
    var lang = data.lang === "en" ? "en" : "vi";
    // The stylesheet sits next to the script when the script came from our server.
    var cssUrl = scriptUrl && /widget\.js$/.test(scriptUrl.pathname)
      ? scriptUrl.href.replace(/widget\.js(\?.*)?$/, "widget.css")
      : server + CSS_PATH;
    return {
      server: server,
      webhook: server + WEBHOOK_PATH,
      notices: server + NOTICES_PATH,
      cssUrl: cssUrl,
      lang: lang,
      title: data.title || STRINGS[lang].title,
      color: data.color && window.CSS && CSS.supports("color", data.color) ? data.color : null,
      open: data.open === "true",
    };
  }

  /* ---------- storage: one record per server ---------- */

  var STORAGE_KEY = "motcua-widget:" + config.server;
  var memoryStore = {}; // used when localStorage is unavailable (private mode, blocked)

  function loadState() {
    var raw = null;
    try {
      raw = window.localStorage.getItem(STORAGE_KEY);
    } catch (e) {
      raw = memoryStore[STORAGE_KEY] || null;
    }
    var saved = null;
    try {
      saved = raw ? JSON.parse(raw) : null;
    } catch (e) {
      saved = null; // a corrupt record: start again rather than break the page
    }
    saved = saved && typeof saved === "object" ? saved : {};
    return {
      sender: typeof saved.sender === "string" && saved.sender ? saved.sender : newId(),
      history: Array.isArray(saved.history) ? saved.history.slice(-HISTORY_LIMIT) : [],
      queue: Array.isArray(saved.queue) ? saved.queue : [],
      open: typeof saved.open === "boolean" ? saved.open : null,
    };
  }

  function saveState() {
    var raw = JSON.stringify(state);
    try {
      window.localStorage.setItem(STORAGE_KEY, raw);
    } catch (e) {
      memoryStore[STORAGE_KEY] = raw;
    }
  }

  /** A random UUID; crypto.randomUUID exists only on https and localhost pages. */
  function newId() {
    if (window.crypto && typeof crypto.randomUUID === "function") {
      return crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  var state = loadState();

  /* ---------- DOM helpers ---------- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className
        .split(" ")
        .map(function (name) { return PREFIX + "-" + name; })
        .join(" ");
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;

  /** Appends text to parent, turning http(s) URLs into links; text nodes only. */
  function appendRichText(parent, text) {
    var last = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var url = trimUrl(match[0]);
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      parent.appendChild(makeLink(url));
      last = match.index + url.length;
      URL_PATTERN.lastIndex = last;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  /** Drops sentence punctuation glued to the end of a URL ("see https://x.vn." ). */
  function trimUrl(url) {
    while (/[.,;:!?'"\]]$/.test(url) || (/\)$/.test(url) && url.indexOf("(") === -1)) {
      url = url.slice(0, -1);
    }
    return url;
  }

  function makeLink(url) {
    var protocol = "";
    try {
      protocol = new URL(url).protocol;
    } catch (e) {
      protocol = "";
    }
    if (protocol !== "http:" && protocol !== "https:") {
      return document.createTextNode(url);
    }
    var link = el("a", "link", url);
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    return link;
  }

  /* ---------- building the widget ---------- */

  var ui = buildUi();

  function buildUi() {
    var root = el("div", "root");
    root.style.visibility = "hidden"; // until the stylesheet has loaded
    root.setAttribute("lang", config.lang);
    if (config.color) {
      root.style.setProperty("--mcw-color", config.color);
    }

    var launcher = el("button", "launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-label", t.open);
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", PREFIX + "-panel");
    launcher.appendChild(chatIcon());

    var panel = el("div", "panel");
    panel.id = PREFIX + "-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", PREFIX + "-title");
    panel.hidden = true;

    var header = el("div", "header");
    var title = el("h2", "title", config.title);
    title.id = PREFIX + "-title";
    var restart = el("button", "icon-button restart", "↺");
    restart.type = "button";
    restart.setAttribute("aria-label", t.restart);
    restart.title = t.restart;
    var close = el("button", "icon-button close", "×");
    close.type = "button";
    close.setAttribute("aria-label", t.close);
    close.title = t.close;
    header.append(title, restart, close);

    var log = el("div", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-relevant", "additions");
    log.setAttribute("aria-label", config.title);
    log.tabIndex = 0; // lets keyboard users scroll the conversation

    var typing = el("div", "typing");
    typing.setAttribute("role", "status");
    typing.hidden = true;
    var typingText = el("span", "sr-only", t.typing);
    var dots = el("span", "dots");
    dots.setAttribute("aria-hidden", "true");
    dots.append(el("span"), el("span"), el("span"));
    typing.append(typingText, dots);

    var quick = el("div", "quick");
    quick.setAttribute("role", "group");
    quick.setAttribute("aria-label", t.choices);
    quick.hidden = true;

    var notice = el("div", "notice");
    notice.setAttribute("role", "status");
    notice.setAttribute("aria-live", "assertive");
    notice.hidden = true;

    var form = el("form", "form");
    form.noValidate = true;
    var label = el("label", "sr-only", t.inputLabel);
    label.htmlFor = PREFIX + "-input";
    var input = el("input", "input");
    input.id = PREFIX + "-input";
    input.type = "text";
    input.autocomplete = "off";
    input.maxLength = 2000;
    input.placeholder = t.placeholder;
    var send = el("button", "send", t.send);
    send.type = "submit";
    form.append(label, input, send);

    panel.append(header, log, typing, quick, notice, form);
    root.append(panel, launcher);

    return {
      root: root, launcher: launcher, panel: panel, restart: restart, close: close,
      log: log, typing: typing, quick: quick, notice: notice, form: form, input: input,
    };
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute(
      "d",
      "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-4.5 3.6A.9.9 0 0 1 2 20.9V5a2 2 0 0 1 2-2z" +
        "m3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"
    );
    svg.appendChild(path);
    return svg;
  }

  /* ---------- rendering the conversation ---------- */

  var nodesById = {}; // user messages still waiting to be sent, by id

  function renderMessage(msg) {
    var from = msg.from === "user" ? "user" : "bot";
    var node = el("div", "msg msg-" + from);
    node.appendChild(el("span", "sr-only", from === "user" ? t.you : t.bot));
    var body = el("span", "text");
    appendRichText(body, String(msg.text || ""));
    node.appendChild(body);
    if (msg.pending || msg.failed) {
      node.appendChild(el("span", "status", msg.failed ? t.failed : t.pending));
    }
    if (msg.id) {
      nodesById[msg.id] = node;
    }
    return node;
  }

  function appendMessage(msg) {
    ui.log.appendChild(renderMessage(msg));
    scrollToEnd();
  }

  /** Redraws one message in place (e.g. once it has been sent). */
  function refreshMessage(msg) {
    var old = nodesById[msg.id];
    if (old && old.parentNode) {
      old.parentNode.replaceChild(renderMessage(msg), old);
    }
  }

  function renderAll() {
    ui.log.textContent = "";
    nodesById = {};
    ui.log.appendChild(el("div", "msg msg-bot msg-welcome", t.welcome));
    state.history.forEach(function (msg) {
      ui.log.appendChild(renderMessage(msg));
    });
    var last = state.history[state.history.length - 1];
    showQuickReplies(last && last.from === "bot" && !state.queue.length ? last.buttons : null);
    scrollToEnd();
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  /** Shows the bot's buttons under the conversation; a click sends the payload. */
  function showQuickReplies(buttons) {
    ui.quick.textContent = "";
    var usable = (Array.isArray(buttons) ? buttons : []).filter(function (b) {
      return b && typeof b.title === "string" && b.title && typeof b.payload === "string";
    });
    usable.forEach(function (b) {
      var button = el("button", "choice", b.title);
      button.type = "button";
      button.addEventListener("click", function () {
        sendMessage(b.payload, b.title);
      });
      ui.quick.appendChild(button);
    });
    ui.quick.hidden = usable.length === 0;
  }

  function showNotice(text, kind) {
    ui.notice.textContent = text || "";
    ui.notice.className = PREFIX + "-notice" + (kind ? " " + PREFIX + "-notice-" + kind : "");
    ui.notice.hidden = !text;
  }

  function showTyping(on) {
    ui.typing.hidden = !on;
    if (on) {
      scrollToEnd();
    }
  }

  /* ---------- history ---------- */

  function remember(msg) {
    state.history.push(msg);
    if (state.history.length > HISTORY_LIMIT) {
      state.history = state.history.slice(-HISTORY_LIMIT);
    }
  }

  function findMessage(id) {
    for (var i = state.history.length - 1; i >= 0; i--) {
      if (state.history[i].id === id) {
        return state.history[i];
      }
    }
    return null;
  }

  /* ---------- sending, with a queue that survives failures and reloads ---------- */

  var sending = false;
  var attempts = 0; // failed tries of the message at the head of the queue
  var retryTimer = null;

  /**
   * Queues a message and starts sending.
   * @param {string} message what the server receives (a button's payload, or the typed text)
   * @param {string} [shown] what the citizen sees as their message (a button's title)
   */
  function sendMessage(message, shown) {
    message = String(message || "").trim();
    if (!message) {
      return;
    }
    var msg = { id: newId(), from: "user", text: shown || message, pending: true };
    remember(msg);
    state.queue.push({ id: msg.id, message: message });
    saveState();
    appendMessage(msg);
    showQuickReplies(null);
    pump();
  }

  /** Sends the head of the queue; on success moves on, on a passing failure retries later. */
  function pump() {
    if (sending || !state.queue.length) {
      return;
    }
    clearTimeout(retryTimer);
    retryTimer = null;
    sending = true;
    var item = state.queue[0];
    showTyping(true);
    post(item.message).then(function (result) {
      sending = false;
      showTyping(false);
      handleResult(item, result);
    });
  }

  function handleResult(item, result) {
    var msg = findMessage(item.id);
    if (result.kind === "retry") {
      attempts += 1;
      showNotice(t.reconnecting, "warn");
      scheduleRetry();
      return;
    }
    state.queue.shift();
    attempts = 0;
    if (msg) {
      msg.pending = false;
      msg.failed = result.kind !== "ok";
      refreshMessage(msg);
    }
    if (result.kind === "ok") {
      showNotice("");
      result.replies.forEach(function (reply) {
        var botMsg = { from: "bot", text: reply.text };
        if (Array.isArray(reply.buttons) && reply.buttons.length) {
          botMsg.buttons = reply.buttons;
        }
        remember(botMsg);
        appendMessage(botMsg);
      });
      var last = result.replies[result.replies.length - 1];
      showQuickReplies(last && !state.queue.length ? last.buttons : null);
    } else {
      showNotice(rejectionText(result), "error");
    }
    saveState();
    pump();
  }

  function rejectionText(result) {
    if (result.kind === "malformed") {
      return t.badReply;
    }
    if (result.status === 403) {
      return t.forbidden;
    }
    var text = t.rejected.replace("{status}", String(result.status));
    return result.reason ? text + " " + result.reason : text;
  }

  /** Exponential backoff with jitter: about 1, 2, 4 … 30 s. */
  function scheduleRetry() {
    var delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * Math.pow(2, attempts - 1));
    delay = delay * (0.75 + Math.random() * 0.5);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(pump, delay);
  }

  /**
   * POSTs one message. Resolves (never rejects) to one of
   * {kind: "ok", replies}, {kind: "retry"} (offline, timeout, 5xx, 408, 429),
   * {kind: "rejected", status, reason} (other 4xx) or {kind: "malformed"}.
   */
  function post(message) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () {
      if (controller) {
        controller.abort();
      }
    }, REQUEST_TIMEOUT_MS);
    return fetch(config.webhook, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: message }),
      credentials: "omit",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (response.ok) {
          return response.json().then(readReplies, function () {
            return { kind: "malformed" };
          });
        }
        if (response.status >= 500 || response.status === 408 || response.status === 429) {
          return { kind: "retry" };
        }
        return response.json().then(
          function (body) {
            var reason = body && typeof body.error === "string" ? body.error : "";
            return { kind: "rejected", status: response.status, reason: reason };
          },
          function () {
            return { kind: "rejected", status: response.status, reason: "" };
          }
        );
      })
      .catch(function () {
        return { kind: "retry" }; // network down, DNS, CORS refusal, timeout
      })
      .then(function (result) {
        clearTimeout(timer);
        return result;
      });
  }

  function readReplies(body) {
    if (!Array.isArray(body)) {
      return { kind: "malformed" };
    }
    var replies = body.filter(function (r) {
      return r && typeof r.text === "string";
    });
    return { kind: "ok", replies: replies };
  }

  /* ---------- opening, closing, keyboard ---------- */

  function setOpen(open, moveFocus) {
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    ui.root.classList.toggle(PREFIX + "-open", open);
    state.open = open;
    saveState();
    if (open) {
      scrollToEnd();
      if (moveFocus) {
        ui.input.focus();
      }
    } else if (moveFocus) {
      ui.launcher.focus();
    }
  }

  function restartConversation() {
    if (!window.confirm(t.restartConfirm)) {
      return;
    }
    clearTimeout(retryTimer);
    state = { sender: newId(), history: [], queue: [], open: true };
    attempts = 0;
    saveState();
    showNotice("");
    renderAll();
    ui.input.focus();
  }

  function wireEvents() {
    ui.launcher.addEventListener("click", function () {
      setOpen(ui.panel.hidden, true);
    });
    ui.close.addEventListener("click", function () {
      setOpen(false, true);
    });
    ui.restart.addEventListener("click", restartConversation);
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.stopPropagation();
        setOpen(false, true);
      }
    });
    ui.form.addEventListener("submit", function (event) {
      event.preventDefault(); // Enter in the input submits the form
      var text = ui.input.value;
      ui.input.value = "";
      sendMessage(text);
    });
    // Back online: retry now instead of waiting for the backoff.
    window.addEventListener("online", function () {
      if (state.queue.length && !sending) {
        pump();
      }
    });
  }

  /* ---------- start ---------- */

  function loadStylesheet(done) {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = config.cssUrl;
    link.onload = done;
    link.onerror = done; // unstyled is better than invisible
    document.head.appendChild(link);
  }

  /**
   * Dossier notices that came while the page was closed (the citizen followed a dossier):
   * fetched once when the page opens, shown as the assistant's messages and kept in the
   * history. Only a browser that has talked to the assistant can have any.
   */
  function fetchNotices() {
    if (!state.history.length || !window.fetch) {
      return;
    }
    fetch(config.notices + "?sender=" + encodeURIComponent(state.sender), { mode: "cors" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        var notices = body && Array.isArray(body.notices) ? body.notices : [];
        notices.forEach(function (notice) {
          if (notice && typeof notice.text === "string" && notice.text) {
            var msg = { from: "bot", text: notice.text, notice: true };
            remember(msg);
            appendMessage(msg);
          }
        });
        if (notices.length) {
          saveState();
        }
      })
      .catch(function () {
        /* offline: the notices wait on the server for the next page */
      });
  }

  function start() {
    document.body.appendChild(ui.root);
    loadStylesheet(function () {
      ui.root.style.visibility = "";
    });
    wireEvents();
    renderAll();
    setOpen(state.open === null ? config.open : state.open, false);
    pump(); // messages left unsent by an earlier page
    fetchNotices();
  }

  window.motcuaWidget = {
    open: function () { setOpen(true, true); },
    close: function () { setOpen(false, true); },
    send: function (text) { sendMessage(text); },
    senderId: function () { return state.sender; },
  };

  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
