/**
 * The HTML report's own browser script, inlined after uPlot. It reads the page data from the JSON block
 * `#dsprobe-data` and draws every chart with uPlot. Untrusted text (model names) only ever reaches the page
 * through textContent or uPlot's labels (which also use textContent); it never builds HTML from strings.
 *
 * Kept as plain ES2017 in a string (no build step, no template literals inside) so the page runs in any
 * current browser straight from file://.
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('dsprobe-data').textContent);
  var MODEL_COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#8250df', '#bf8700', '#0a7ea4'];
  var PCT_COLORS = ['#1f6feb', '#bf8700', '#d1242f'];
  var charts = [];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function widthOf(box) {
    var cs = getComputedStyle(box);
    var w = (box.clientWidth || 600) - parseFloat(cs.paddingLeft || '0') - parseFloat(cs.paddingRight || '0');
    return Math.max(240, Math.floor(w - 2));
  }
  function fmtMs(v) {
    if (v == null || isNaN(v)) return '';
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + 's';
    return (v >= 10 ? v.toFixed(0) : v.toFixed(1)) + 'ms';
  }
  function allNull(arr) {
    for (var i = 0; i < arr.length; i++) if (arr[i] != null && !isNaN(arr[i])) return false;
    return true;
  }
  // Adds a chart card to box: a title, then the uPlot canvas (or a note when there is nothing to draw).
  function card(box, title, note) {
    var c = el('div', 'chart-card');
    c.appendChild(el('h4', null, title));
    if (note) c.appendChild(el('p', 'muted', note));
    box.appendChild(c);
    return c;
  }
  function plot(box, opts, data, height) {
    opts.width = widthOf(box);
    opts.height = height || 220;
    var u = new uPlot(opts, data, box);
    u.root.setAttribute('data-dsprobe-chart', '1');
    charts.push({ u: u, box: box });
    return u;
  }
  // Dashed vertical lines at each model's cap estimate (headline chart).
  function capLines(caps) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.setLineDash([6, 4]);
          ctx.lineWidth = 1.5 * devicePixelRatio;
          caps.forEach(function (c) {
            if (c.cap == null) return;
            var x = u.valToPos(c.cap, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.strokeStyle = c.color;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          });
          ctx.restore();
        }],
      },
    };
  }

  // Ticks at 1, 2, 5 x 10^k inside the visible range (uPlot's own log ticks start at the range's minimum).
  function logSplits(u, axisIdx, min, max) {
    var out = [];
    for (var p = Math.pow(10, Math.floor(Math.log10(Math.max(1, min)))); p <= max; p *= 10) {
      [1, 2, 5].forEach(function (m) { var v = p * m; if (v >= min && v <= max) out.push(v); });
    }
    return out;
  }

  // 1. The headline chart: 429 rate against in-flight, one line per model, on the union of levels.
  function headline() {
    var box = document.getElementById('chart-429');
    if (!box) return;
    var xs = {};
    D.models.forEach(function (m) { m.x.forEach(function (x) { xs[x] = true; }); });
    var x = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    if (!x.length) { card(box, '429 rate vs in-flight', 'No requests were measured.'); return; }
    var data = [x];
    var series = [{ label: 'in-flight' }];
    var caps = [];
    D.models.forEach(function (m, i) {
      var at = {};
      m.x.forEach(function (v, k) { at[v] = m.rate429[k]; });
      data.push(x.map(function (v) { return at[v] == null ? null : at[v]; }));
      var color = MODEL_COLORS[i % MODEL_COLORS.length];
      series.push({ label: m.model + ' 429 %', stroke: color, width: 2, spanGaps: true, points: { show: true, size: 5 },
        value: function (u, v) { return v == null ? '' : v.toFixed(1) + '%'; } });
      caps.push({ cap: m.cap, color: color });
    });
    var logX = x[x.length - 1] / Math.max(1, x[0]) >= 20;
    var c = card(box, '429 rate (%) against requests in flight; dashed: cap estimate');
    plot(c, {
      // Caps of different models can be 5x apart (Flash 2500, Pro 500): a log axis keeps both readable.
      scales: { x: logX ? { time: false, distr: 3, range: function (u, lo, hi) { return [lo / 1.2, hi * 1.2]; } } : { time: false },
        // A quick search draws few 429s per level (a few %): scale to the data, never below 5 %, never above 100 %.
        y: { range: function (u, lo, hi) { return [0, Math.min(100, Math.max(5, Math.ceil((hi || 0) * 1.15)))]; } } },
      axes: [logX ? { label: 'requests in flight (log scale)', splits: logSplits, filter: function (u, vs) { return vs; },
        values: function (u, vs) { return vs.map(function (v) { return v == null ? '' : v.toLocaleString('en-US'); }); } }
        : { label: 'requests in flight' }, { label: '429 %', size: 50 }],
      series: series,
      plugins: [capLines(caps)],
    }, data, 280);
  }

  // 2. Per model: percentiles against in-flight, in-flight over time, latency distribution.
  function pctChart(box, m, title, trip) {
    if (allNull(trip[0]) && allNull(trip[1]) && allNull(trip[2])) { card(box, title, 'No data at any level.'); return; }
    var c = card(box, title);
    var names = ['p50', 'p90', 'p99'];
    plot(c, {
      scales: { x: { time: false } },
      axes: [{ label: 'requests in flight' }, { label: 'ms', size: 60 }],
      series: [{ label: 'in-flight' }].concat(names.map(function (n, k) {
        return { label: n, stroke: PCT_COLORS[k], width: 2, spanGaps: true, points: { show: true, size: 4 },
          value: function (u, v) { return fmtMs(v); } };
      })),
    }, [m.x, trip[0], trip[1], trip[2]]);
  }
  function timelineChart(box, m) {
    var t = m.timeline;
    if (!t.t.length) { card(box, 'In flight over time', 'No timeline recorded.'); return; }
    var c = card(box, 'In flight over time (dots: 429s per interval, right axis)');
    plot(c, {
      scales: { x: { time: false }, r: { auto: true } },
      axes: [{ label: 'seconds since start' }, { label: 'in flight', size: 60 },
        { side: 1, scale: 'r', label: '429s', size: 50, grid: { show: false } }],
      series: [{ label: 's' },
        { label: 'in flight', stroke: '#1f6feb', width: 1.5, fill: 'rgba(31,111,235,0.08)' },
        { label: 'target', stroke: '#57606a', width: 1, dash: [4, 3] },
        { label: '429s', scale: 'r', stroke: '#d1242f', fill: '#d1242f', paths: function () { return null; },
          points: { show: true, size: 5, fill: '#d1242f' } }],
    }, [t.t, t.inflight, t.target, t.r429]);
  }
  function distChart(box, m) {
    if (!m.dist.length) { card(box, 'End-to-end latency distribution by level', 'No successful request to draw.'); return; }
    var c = card(box, 'End-to-end latency distribution by level (HDR)');
    var labels = { 0: '0%', 1: '90%', 2: '99%', 3: '99.9%', 4: '99.99%', 5: 'max' };
    var n = m.dist.length;
    plot(c, {
      scales: { x: { time: false, range: [0, 5] }, y: { distr: 3 } },
      axes: [{ label: 'percentile', splits: function () { return [0, 1, 2, 3, 4, 5]; },
        values: function (u, vs) { return vs.map(function (v) { return labels[v] || ''; }); } },
        { label: 'ms (log)', size: 60 }],
      series: [{ label: 'nines' }].concat(m.dist.map(function (d, k) {
        var shade = Math.round(200 - (160 * k) / Math.max(1, n - 1));
        return { label: d.level + ' in flight', stroke: 'rgb(' + (230 - shade / 2 | 0) + ',' + shade / 2 + ',' + shade + ')', width: 1.5,
          value: function (u, v) { return fmtMs(v); } };
      })),
    }, [m.distX].concat(m.dist.map(function (d) { return d.ms.map(function (v) { return v > 0 ? v : 0.001; }); })));
  }
  function perModel() {
    var grid = document.getElementById('model-charts');
    if (!grid) return;
    var cols = [];
    D.models.forEach(function (m, i) {
      var col = el('div', 'model-col');
      var h = el('h3', 'model-name', m.model);
      h.style.borderColor = MODEL_COLORS[i % MODEL_COLORS.length];
      col.appendChild(h);
      if (m.downsampled.points < m.downsampled.levels || m.downsampled.timelinePoints < m.downsampled.timeline) {
        col.appendChild(el('p', 'muted', 'Downsampled for size: ' + m.downsampled.points + ' points for ' + m.downsampled.levels +
          ' levels, ' + m.downsampled.timelinePoints + ' timeline points for ' + m.downsampled.timeline + '. report.json has everything.'));
      }
      grid.appendChild(col);
      cols.push(col);
    });
    // Charts are sized from their column's width, so every column must exist before the first is drawn.
    D.models.forEach(function (m, i) {
      var col = cols[i];
      pctChart(col, m, 'Time to first token', m.ttft);
      pctChart(col, m, 'End-to-end latency', m.latency);
      pctChart(col, m, 'Keep-alive wait (queued before the first data)', m.keepalive);
      timelineChart(col, m);
      distChart(col, m);
    });
  }

  function resizeAll() {
    charts.forEach(function (c) {
      var w = widthOf(c.box);
      if (Math.abs(w - c.u.width) > 2) c.u.setSize({ width: w, height: c.u.height });
    });
  }

  headline();
  perModel();
  var pending = null;
  window.addEventListener('resize', function () { clearTimeout(pending); pending = setTimeout(resizeAll, 100); });
  if (window.matchMedia) {
    var mq = window.matchMedia('print');
    if (mq.addEventListener) mq.addEventListener('change', resizeAll);
  }
  window.addEventListener('beforeprint', resizeAll);
  document.documentElement.setAttribute('data-charts-drawn', String(charts.length));
})();
`;
