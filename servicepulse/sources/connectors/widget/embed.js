/* servicepulse "report a problem" widget.
 *
 * Embed:  <div id="servicepulse-report"></div>
 *         <script src="https://pulse.example.ac.uk/sources/widget/portal/embed.js" async></script>
 * Options on the script tag: data-target="element-id".
 *
 * The form is built with DOM calls only (no HTML strings from the server), labelled for screen readers,
 * usable by keyboard, and reports its result in a polite live region. The reporter token the server issues
 * is kept in localStorage so one person's repeated reports about a service are counted once an hour.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) {
    return;
  }
  var base = script.src.replace(/embed\.js(?:[?#].*)?$/, "");
  var storeKey = "servicepulse-widget:" + base;
  var instance = "sp" + Math.random().toString(36).slice(2, 8);
  var COMMENT_LIMIT = 500; /* the server's MAX_COMMENT, in code points */
  /* Every word the form shows comes from the server in the source's language (the session's `word_parts`); this
     one is said when the session cannot be had at all (the server unreachable, or this page's origin not
     allowed), so the server writes it into this script in that language when it serves it. */
  var UNAVAILABLE = {"lang": "en", "parts": [{"lang": "en", "text": "The problem report form is unavailable right now."}]};

  function readToken() {
    try {
      return window.localStorage.getItem(storeKey) || "";
    } catch (e) {
      return "";
    }
  }

  function keepToken(token) {
    try {
      window.localStorage.setItem(storeKey, token);
    } catch (e) {
      /* private browsing: the token lives for this page only */
    }
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      node.setAttribute(key, attrs[key]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  /* A text from the server, as nodes: its parts ([{"lang": "cy", "text": "…"}, …], each in one language) when
     it sends them, else the joined string (`plain`). A part in the language around it (`lang`) is a text node;
     any other is a span marked with its own lang, so a screen reader reads the English half of a bilingual
     form with an English voice, not the Welsh form's (WCAG 2.2, 3.1.2 Language of Parts). Text nodes only:
     nothing the server sends is parsed as markup. */
  function said(parts, plain, lang) {
    var fragment = document.createDocumentFragment();
    if (!Array.isArray(parts)) {
      fragment.appendChild(document.createTextNode(typeof plain === "string" ? plain : ""));
      return fragment;
    }
    parts.forEach(function (part) {
      var text = document.createTextNode(String(part.text));
      if (part.lang && part.lang !== lang) {
        var span = el("span", { lang: part.lang });
        span.appendChild(text);
        fragment.appendChild(span);
      } else {
        fragment.appendChild(text);
      }
    });
    return fragment;
  }

  /* `node` saying the text (in place of what it said), inside an element whose language is `lang`. */
  function say(node, parts, plain, lang) {
    node.textContent = "";
    node.appendChild(said(parts, plain, lang));
    return node;
  }

  /* The server's reasons are phrases ("too many reports from this address; try again later"): shown to a
     person, they start with a capital and end with a full stop. */
  function sentence(text) {
    text = typeof text === "string" ? text.trim() : "";
    if (!text) {
      return "";
    }
    return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
  }

  /* A refusal's words: its parts (each a sentence already, marked with its language), or the phrase an older
     server sends made a sentence; null when it says nothing. */
  function refusal(data) {
    if (data && Array.isArray(data.error_parts) && data.error_parts.length) {
      return data.error_parts;
    }
    var text = sentence(data && data.error);
    return text ? [{ text: text }] : null;
  }

  /* The server counts a comment's length in code points (Python's len), the way a person counts characters;
     a textarea's maxlength counts UTF-16 units, in which an emoji is two, so it stopped a student at 250 emoji.
     Array.from walks a string by code point. */
  function codePoints(text) {
    return Array.from(text);
  }

  /* The server refuses a reporter token it can no longer verify (older than its year, or signed with a
     SECRET_KEY since rotated) with this 403; any other 403 is a real refusal. */
  function expired(result) {
    return result.status === 403 && Boolean(result.data) && result.data.code === "form_expired";
  }

  function findTarget() {
    var id = script.getAttribute("data-target") || "servicepulse-report";
    var target = document.getElementById(id);
    if (!target) {
      target = el("div", { id: id });
      script.parentNode.insertBefore(target, script.nextSibling);
    }
    return target;
  }

  function render(target, config) {
    var token = config.token;
    var words = config.words;
    var wordParts = config.word_parts || {};
    keepToken(token);
    /* Fill `node` with a text from the session, in the form's language (the parts not in it marked). */
    function put(node, parts, plain) {
      return say(node, parts, plain, config.lang);
    }
    function word(node, key) {
      return put(node, wordParts[key], words[key]);
    }
    /* lang: a screen reader reads a Welsh form with a Welsh voice, whatever the host page's language. */
    var form = el("form", {
      "class": "sp-widget",
      "aria-labelledby": instance + "-title",
      lang: config.lang,
      novalidate: ""
    });
    form.appendChild(put(el("h2", { id: instance + "-title" }), config.title_parts, config.title));

    var serviceLabel = word(el("label", { "for": instance + "-service" }), "service_label");
    var service = el("select", { id: instance + "-service", name: "service", required: "" });
    /* An option holds text only (no element to mark a part's language), so it says the joined text. */
    service.appendChild(el("option", { value: "" }, words.service_choose));
    config.services.forEach(function (item) {
      service.appendChild(el("option", { value: item.id }, item.name));
    });
    /* A list is as wide as its longest name: held to its container so one long service name cannot widen the
       host page past a phone's screen (set through the CSSOM, which a host's CSP allows). */
    service.style.maxWidth = "100%";
    form.appendChild(serviceLabel);
    form.appendChild(service);

    var problems = el("fieldset", {});
    problems.appendChild(word(el("legend", {}), "problem_legend"));
    config.problem_types.forEach(function (item, index) {
      var id = instance + "-problem-" + item.id;
      var radio = el("input", { type: "radio", name: "problem", id: id, value: item.id });
      if (index === 0) {
        radio.setAttribute("required", "");
      }
      var label = put(el("label", { "for": id }), item.label_parts, item.label);
      /* Each choice a line of its own: run on as one line, a phone's width wrapped it anywhere and left a
         circle at the end of one line and its label at the start of the next, beside another choice's. */
      var choice = el("div", {});
      choice.style.padding = "0.25rem 0";
      choice.appendChild(radio);
      choice.appendChild(document.createTextNode(" "));
      choice.appendChild(label);
      problems.appendChild(choice);
    });
    form.appendChild(problems);

    /* The box stops at 500 characters (the server's limit), so it says so: a longer text pasted in would
       otherwise be cut without a word. dir="auto" sets Arabic or Hebrew right to left as it is typed. The limit
       is kept by `keepToLimit` below, not by maxlength, which counts an emoji as two characters. */
    var commentField = el("div", {});
    commentField.appendChild(word(el("label", { "for": instance + "-comment" }), "comment_label"));
    commentField.appendChild(document.createTextNode(" "));
    commentField.appendChild(
      el("textarea", {
        id: instance + "-comment",
        name: "comment",
        rows: "3",
        dir: "auto",
        "aria-describedby": instance + "-comment-hint"
      })
    );
    commentField.appendChild(document.createTextNode(" "));
    commentField.appendChild(word(el("small", { id: instance + "-comment-hint" }), "comment_hint"));
    form.appendChild(commentField);
    var comment = form.elements.comment;

    /* What maxlength does, counted in code points: text typed or pasted past the limit is cut where it was
       inserted, and the text after the caret is kept. Left alone while an input method is still composing a
       character (the composed text arrives, and is checked, on compositionend). */
    function keepToLimit(event) {
      if (event.isComposing) {
        return;
      }
      var value = comment.value;
      if (value.length <= COMMENT_LIMIT) {
        return; /* no more code points than UTF-16 units: within the limit however it is counted */
      }
      var caret = comment.selectionEnd;
      var before = codePoints(value.slice(0, caret));
      var after = value.slice(caret);
      var room = COMMENT_LIMIT - codePoints(after).length;
      if (before.length <= room) {
        return;
      }
      var kept = before.slice(0, Math.max(room, 0)).join("");
      comment.value = room < 0 ? codePoints(kept + after).slice(0, COMMENT_LIMIT).join("") : kept + after;
      comment.setSelectionRange(kept.length, kept.length);
    }
    comment.addEventListener("input", keepToLimit);
    comment.addEventListener("compositionend", keepToLimit);

    /* Honeypot: hidden from people and assistive technology; bots fill it in. Styled through the CSSOM, not
       a style attribute: a host page whose Content-Security-Policy forbids inline styles would otherwise show
       it, and a person who typed in it would have their report quietly dropped as a bot's. Clipped to one
       pixel where it stands rather than moved off to the left, which a right-to-left page scrolls to. */
    var trap = el("div", { "aria-hidden": "true" });
    trap.style.position = "absolute";
    trap.style.width = "1px";
    trap.style.height = "1px";
    trap.style.overflow = "hidden";
    trap.style.clipPath = "inset(50%)";
    trap.style.whiteSpace = "nowrap";
    trap.appendChild(el("input", { type: "text", name: "website", tabindex: "-1", autocomplete: "off" }));
    form.appendChild(trap);

    var button = word(el("button", { type: "submit" }), "send");
    form.appendChild(button);
    var status = el("p", { role: "status", "aria-live": "polite", "class": "sp-widget-status" });
    form.appendChild(status);
    /* What a report keeps and for how long, from the server (it knows the source's retention), with the
       organisation's privacy notice when one is set. Text nodes and an href only: nothing parsed as markup. */
    if (config.notice) {
      var notice = put(el("p", { "class": "sp-widget-notice" }), config.notice_parts, config.notice);
      notice.appendChild(document.createTextNode(" "));
      if (config.privacy_url) {
        notice.appendChild(word(el("a", { href: config.privacy_url }), "privacy_link"));
      }
      form.appendChild(notice);
    }

    /* While a report is on its way the button says so with aria-disabled rather than `disabled`: disabling
       the focused button would drop keyboard focus to the top of the host page. */
    var sending = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) {
        return;
      }
      var chosen = form.querySelector("input[name=problem]:checked");
      if (!service.value) {
        word(status, "need_service");
        service.focus();
        return;
      }
      if (!chosen) {
        word(status, "need_problem");
        form.querySelector("input[name=problem]").focus();
        return;
      }
      sending = true;
      button.setAttribute("aria-disabled", "true");
      word(status, "sending");
      var report = {
        service: service.value,
        problem: chosen.value,
        comment: comment.value,
        website: form.elements.website.value
      };
      /* A token the server no longer accepts (the page was left open for a long time, or the server's key was
         rotated) is replaced the way the page load gets one, and the same report is sent once more, so the
         student neither reloads nor loses what they typed. Once only: a second refusal is shown as it is. */
      send(report)
        .then(function (result) {
          if (!expired(result)) {
            return result;
          }
          return renew().then(function (fresh) {
            if (!fresh) {
              return result;
            }
            token = fresh;
            keepToken(token);
            return send(report);
          });
        })
        .then(function (result) {
          if (result.ok) {
            put(status, result.data.message_parts, result.data.message);
            comment.value = "";
          } else if (refusal(result.data)) {
            put(status, refusal(result.data));
          } else {
            word(status, "failed");
          }
        })
        .catch(function () {
          word(status, "not_sent");
        })
        .then(function () {
          sending = false;
          button.removeAttribute("aria-disabled");
        });
    });

    function send(report) {
      report.token = token;
      return fetch(base + "reports/", {
        method: "POST",
        credentials: "include",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(report)
      }).then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      });
    }

    target.textContent = "";
    target.appendChild(form);
  }

  /* When the form cannot be loaded the server usually says why (a campus address that loaded it too often this
     hour): that reason is shown, so a person knows to come back later rather than that the form is broken. */
  function unavailable(target, reason) {
    var note = el("p", { "class": "sp-widget-status", lang: UNAVAILABLE.lang });
    say(note, UNAVAILABLE.parts, "", UNAVAILABLE.lang);
    if (reason) {
      note.appendChild(document.createTextNode(" "));
      note.appendChild(said(reason, "", UNAVAILABLE.lang));
    }
    target.textContent = "";
    target.appendChild(note);
  }

  function session(token) {
    return fetch(base + "session/", { credentials: "include", headers: { "X-Widget-Token": token } });
  }

  /* A fresh reporter token from the session endpoint, or "" when it cannot be had (offline, rate limited). */
  function renew() {
    return session("")
      .then(function (response) {
        return response.ok ? response.json() : {};
      })
      .then(function (config) {
        return config && typeof config.token === "string" ? config.token : "";
      })
      .catch(function () {
        return "";
      });
  }

  function start() {
    var target = findTarget();
    session(readToken())
      .then(function (response) {
        if (!response.ok) {
          return response
            .json()
            .catch(function () {
              return {};
            })
            .then(function (data) {
              unavailable(target, refusal(data));
            });
        }
        return response.json().then(function (config) {
          render(target, config);
        });
      })
      .catch(function () {
        unavailable(target, null);
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
