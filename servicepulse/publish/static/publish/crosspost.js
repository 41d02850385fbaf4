// Live length counts on the cross-post preview, with the networks' own rules (see publish/networks).
(function () {
  "use strict";
  // As URL_RE in publish/networks/__init__.py: no sentence-ending punctuation, parentheses only in pairs.
  var URL_RE = /https?:\/\/(?:[^\s<>"()]|\([^\s<>"()]*\))+(?<![.,;:!?'"])/g;
  var BARE_DOMAIN_RE = /(?<![\w@.\/-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?![\w-])(?:\/[^\s<>"]*)?/gi;
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
  function graphemes(text) {
    if (!segmenter) return Array.from(text).length;
    var n = 0;
    for (var _ of segmenter.segment(text)) n++;
    return n;
  }
  var LIGHT = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
  function weighted(text) {
    var total = 0;
    var emoji = /\p{Extended_Pictographic}/u;
    var clusters = segmenter ? Array.from(segmenter.segment(text), function (s) { return s.segment; }) : Array.from(text);
    clusters.forEach(function (cluster) {
      if (emoji.test(cluster)) { total += 2; return; }
      Array.from(cluster).forEach(function (ch) {
        var p = ch.codePointAt(0);
        total += LIGHT.some(function (r) { return p >= r[0] && p <= r[1]; }) ? 1 : 2;
      });
    });
    return total;
  }
  function count(text, counter, linkLength) {
    text = text.normalize("NFC");
    var links = text.match(URL_RE) || [];
    if (counter === "count_graphemes") {
      return linkLength ? graphemes(text.replace(URL_RE, "")) + linkLength * links.length : graphemes(text);
    }
    if (counter === "count_x_weighted") {
      // A bare domain counts as the larger of 23 and its own length (networks.count_x_weighted).
      var rest = text.replace(URL_RE, " ");
      var bare = rest.match(BARE_DOMAIN_RE) || [];
      var fromBare = bare.reduce(function (sum, d) { return sum + Math.max(23, weighted(d)); }, 0);
      return weighted(rest.replace(BARE_DOMAIN_RE, "")) - links.length + fromBare + 23 * links.length;
    }
    if (linkLength) return Array.from(text.replace(URL_RE, "")).length + linkLength * links.length;
    return Array.from(text).length;
  }
  document.querySelectorAll("textarea[data-limit]").forEach(function (area) {
    var out = document.getElementById(area.dataset.counter);
    var limit = parseInt(area.dataset.limit, 10);
    var linkLength = area.dataset.linkLength ? parseInt(area.dataset.linkLength, 10) : 0;
    function update() {
      var n = count(area.value, area.dataset.rule, linkLength);
      out.textContent = n + " / " + limit + " " + area.dataset.unit;
      out.classList.toggle("over", n > limit);
    }
    area.addEventListener("input", update);
    update();
  });
})();
