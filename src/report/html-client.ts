/**
 * The HTML report's own browser script, inlined after uPlot. It reads the page data from the JSON block
 * `#dsprobe-data` and draws every chart with uPlot. Untrusted text (model names) only ever reaches the page
 * through textContent or uPlot's labels (which also use textContent), or the canvas; it never builds HTML from
 * strings.
 *
 * Every chart whose axis is in-flight draws each model's cap and need as labelled lines and shades what lies
 * over the cap. Legends show the values under the cursor (never uPlot's `--` placeholder).
 *
 * Kept as plain ES2017 in a string (no build step, no template literals inside) so the page runs in any
 * current browser straight from file://.
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('dsprobe-data').textContent);
  var P = D.palette;
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
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 2) + ' s';
    return (v >= 10 ? v.toFixed(0) : v.toFixed(1)) + ' ms';
  }
  function fmtInt(v) { return v == null || isNaN(v) ? '' : Math.round(v).toLocaleString('en-US'); }
  function fmtPct(v) { return v == null || isNaN(v) ? '' : (v < 1 && v > 0 ? v.toFixed(2) : v.toFixed(1)) + '%'; }
  function fmtS(v) { return v == null || isNaN(v) ? '' : (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + ' s'; }
  function fmtFrac(v) { return v == null || isNaN(v) ? '' : Math.round(v * 100) + '% of cap'; }
  // A legend value formatter: the value under the cursor, or nothing (uPlot would print "--").
  function vfmt(f) {
    return function (u, v, si, idx) { return idx == null || v == null || (typeof v === 'number' && isNaN(v)) ? '' : f(v); };
  }
  function allNull(arr) {
    for (var i = 0; i < arr.length; i++) if (arr[i] != null && !isNaN(arr[i])) return false;
    return true;
  }
  function modelLabel(m) { return m.model; }
  // '#rrggbb' at the given opacity.
  function tint(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16 & 255) + ',' + (n >> 8 & 255) + ',' + (n & 255) + ',' + a + ')';
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

  // Cap and need lines (labelled) and the over-cap region, on any chart with in-flight on an axis.
  // marks: [{ v, color, dash, label }]; axis 'x' draws vertical lines, 'y' horizontal ones; shadeFrom shades
  // everything beyond that value (the levels over the cap).
  function markPlugin(marks, axis, shadeFrom) {
    return {
      hooks: {
        drawClear: [function (u) {
          if (shadeFrom == null) return;
          var ctx = u.ctx;
          var b = u.bbox;
          ctx.save();
          ctx.fillStyle = P.overCap;
          if (axis === 'x') {
            var x = Math.max(b.left, u.valToPos(shadeFrom, 'x', true));
            if (x < b.left + b.width) ctx.fillRect(x, b.top, b.left + b.width - x, b.height);
          } else {
            var y = Math.min(b.top + b.height, u.valToPos(shadeFrom, 'y', true));
            if (y > b.top) ctx.fillRect(b.left, b.top, b.width, y - b.top);
          }
          ctx.restore();
        }],
        draw: [function (u) {
          var ctx = u.ctx;
          var b = u.bbox;
          var dpr = devicePixelRatio || 1;
          ctx.save();
          ctx.font = Math.round(11 * dpr) + 'px system-ui, sans-serif';
          ctx.textBaseline = 'top';
          // uPlot leaves its own alignment on the context (axis labels): labels here start at their x.
          ctx.textAlign = 'left';
          var row = 0;
          marks.forEach(function (mk) {
            if (mk.v == null || isNaN(mk.v)) return;
            var p = u.valToPos(mk.v, axis, true);
            var inside = axis === 'x' ? p >= b.left && p <= b.left + b.width : p >= b.top && p <= b.top + b.height;
            if (!inside) return;
            ctx.strokeStyle = mk.color;
            ctx.lineWidth = 1.5 * dpr;
            ctx.setLineDash((mk.dash || [6, 4]).map(function (d) { return d * dpr; }));
            ctx.beginPath();
            if (axis === 'x') { ctx.moveTo(p, b.top); ctx.lineTo(p, b.top + b.height); }
            else { ctx.moveTo(b.left, p); ctx.lineTo(b.left + b.width, p); }
            ctx.stroke();
            if (!mk.label) return;
            var tw = ctx.measureText(mk.label).width;
            var pad = 3 * dpr;
            var tx, ty;
            if (axis === 'x') {
              // Labels stack from the top so neighbouring lines do not overwrite each other.
              tx = p + pad;
              if (tx + tw > b.left + b.width) tx = Math.max(b.left + pad, p - pad - tw);
              ty = b.top + pad + row * 15 * dpr;
            } else {
              tx = Math.max(b.left + pad, b.left + b.width - tw - pad - (row % 2) * (tw + 12 * dpr));
              ty = p - 14 * dpr;
              if (ty < b.top) ty = p + pad;
            }
            row++;
            ctx.setLineDash([]);
            ctx.fillStyle = 'rgba(255,255,255,0.85)';
            ctx.fillRect(tx - 2 * dpr, ty - 1 * dpr, tw + 4 * dpr, 14 * dpr);
            ctx.fillStyle = mk.color;
            ctx.fillText(mk.label, tx, ty);
          });
          ctx.restore();
        }],
      },
    };
  }
  // The cap and need marks of one model (label prefixed with the model when several share a chart).
  function capNeedMarks(m, withName) {
    var pre = withName ? m.model + ' ' : '';
    var out = [];
    if (m.cap != null) out.push({ v: m.cap, color: m.color, dash: [6, 4], label: pre + 'cap ' + (m.capLowerBound ? '≥ ' : '') + fmtInt(m.cap) });
    if (m.need != null) out.push({ v: m.need, color: m.color, dash: [2, 3], label: pre + 'need ' + fmtInt(m.need) });
    return out;
  }

  // Ticks at 1, 2, 5 x 10^k inside the visible range (uPlot's own log ticks start at the range's minimum).
  function logSplits(u, axisIdx, min, max) {
    var out = [];
    for (var p = Math.pow(10, Math.floor(Math.log10(Math.max(1, min)))); p <= max; p *= 10) {
      [1, 2, 5].forEach(function (m) { var v = p * m; if (v >= min && v <= max) out.push(v); });
    }
    return out;
  }
  // Aligns per-model (x, y) series onto the union of their x values (uPlot wants one x array).
  function align(xsList, ysList) {
    var set = {};
    xsList.forEach(function (xs) { xs.forEach(function (x) { set[x] = true; }); });
    var x = Object.keys(set).map(Number).sort(function (a, b) { return a - b; });
    var ys = ysList.map(function (pair) {
      var at = {};
      pair[0].forEach(function (v, k) { at[v] = pair[1][k]; });
      return x.map(function (v) { return at[v] == null || (typeof at[v] === 'number' && isNaN(at[v])) ? null : at[v]; });
    });
    return { x: x, ys: ys };
  }

  // 1. The headroom panel: every model by the fraction of its own cap, so Flash and Pro share one axis.
  function headroomPanel() {
    var box = document.getElementById('headroom-charts');
    if (!box) return;
    var ms = D.models.filter(function (m) { return m.cap != null && m.cap > 0; });
    if (!ms.length) { card(box, 'Latency and 429s by share of each model\'s own cap', 'No cap was found, so there is no scale to compare the models on.'); return; }
    var fx = ms.map(function (m) { return m.x.map(function (v) { return Math.round((v / m.cap) * 10000) / 10000; }); });
    var marks = [{ v: 1, color: '#d1242f', dash: [6, 4], label: 'cap (each model\'s own)' }];
    ms.forEach(function (m) {
      if (m.need != null) marks.push({ v: m.need / m.cap, color: m.color, dash: [2, 3], label: m.model + ' need ' + fmtInt(m.need) + ' (' + Math.round((m.need / m.cap) * 100) + '% of ' + fmtInt(m.cap) + ')' });
    });
    var xAxis = { label: 'requests in flight ÷ the model\'s own cap', values: function (u, vs) { return vs.map(function (v) { return v == null ? '' : Math.round(v * 100) + '%'; }); } };
    var cards = [card(box, 'Time to first token by share of cap (solid p99, dashed p50)'), card(box, '429 rate by share of cap')];
    var lat = align(fx.concat(fx), ms.map(function (m, i) { return [fx[i], m.ttft[2]]; }).concat(ms.map(function (m, i) { return [fx[i], m.ttft[0]]; })));
    var series = [{ label: 'share of cap', value: vfmt(fmtFrac) }];
    ms.forEach(function (m) { series.push({ label: m.model + ' TTFT p99', stroke: m.color, width: 2, spanGaps: true, points: { show: true, size: 5 }, value: vfmt(fmtMs) }); });
    ms.forEach(function (m) { series.push({ label: m.model + ' TTFT p50', stroke: m.color, width: 1.5, dash: [5, 4], spanGaps: true, points: { show: true, size: 4 }, value: vfmt(fmtMs) }); });
    plot(cards[0], {
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [xAxis, { label: 'TTFT (log)', size: 64, values: function (u, vs) { return vs.map(fmtMs); } }],
      series: series,
      plugins: [markPlugin(marks, 'x', 1)],
    }, [lat.x].concat(lat.ys), 300);
    var r = align(fx, ms.map(function (m, i) { return [fx[i], m.rate429]; }));
    plot(cards[1], {
      scales: { x: { time: false }, y: { range: function (u, lo, hi) { return [0, Math.min(100, Math.max(5, Math.ceil((hi || 0) * 1.15)))]; } } },
      axes: [xAxis, { label: '429 %', size: 50 }],
      series: [{ label: 'share of cap', value: vfmt(fmtFrac) }].concat(ms.map(function (m) {
        return { label: m.model + ' 429 rate', stroke: m.color, width: 2, spanGaps: true, points: { show: true, size: 5 }, value: vfmt(fmtPct) };
      })),
      plugins: [markPlugin(marks, 'x', 1)],
    }, [r.x].concat(r.ys), 300);
  }

  // 2. 429 rate against in-flight, one line per model, each model's cap and need marked.
  function headline() {
    var box = document.getElementById('chart-429');
    if (!box) return;
    var a = align(D.models.map(function (m) { return m.x; }), D.models.map(function (m) { return [m.x, m.rate429]; }));
    var x = a.x;
    if (!x.length) { card(box, '429 rate vs in-flight', 'No requests were measured.'); return; }
    var series = [{ label: 'in flight', value: vfmt(fmtInt) }];
    var marks = [];
    D.models.forEach(function (m) {
      series.push({ label: m.model + ' 429 rate', stroke: m.color, width: 2, spanGaps: true, points: { show: true, size: 5 }, value: vfmt(fmtPct) });
      marks = marks.concat(capNeedMarks(m, true));
    });
    var logX = x[x.length - 1] / Math.max(1, x[0]) >= 20;
    var c = card(box, '429 rate (%) against requests in flight; dashed: cap, dotted: need');
    plot(c, {
      // Caps of different models can be 5x apart (Flash 2500, Pro 500): a log axis keeps both readable.
      scales: { x: logX ? { time: false, distr: 3, range: function (u, lo, hi) { return [lo / 1.2, hi * 1.2]; } } : { time: false },
        // A quick search draws few 429s per level (a few %): scale to the data, never below 5 %, never above 100 %.
        y: { range: function (u, lo, hi) { return [0, Math.min(100, Math.max(5, Math.ceil((hi || 0) * 1.15)))]; } } },
      axes: [logX ? { label: 'requests in flight (log scale)', splits: logSplits, filter: function (u, vs) { return vs; },
        values: function (u, vs) { return vs.map(function (v) { return v == null ? '' : v.toLocaleString('en-US'); }); } }
        : { label: 'requests in flight' }, { label: '429 %', size: 50 }],
      series: series,
      plugins: [markPlugin(marks, 'x', null)],
    }, [x].concat(a.ys), 280);
  }

  // 3. Per model: percentiles against in-flight, over time, in-flight over time, latency distribution.
  function pctChart(box, m, title, trip) {
    if (allNull(trip[0]) && allNull(trip[1]) && allNull(trip[2])) { card(box, title, 'No data at any level.'); return; }
    var c = card(box, title + ' by requests in flight');
    var names = ['p50', 'p90', 'p99'];
    plot(c, {
      scales: { x: { time: false } },
      axes: [{ label: 'requests in flight (shaded: over the cap)' }, { label: 'ms', size: 60 }],
      series: [{ label: 'in flight', value: vfmt(fmtInt) }].concat(names.map(function (n, k) {
        return { label: n, stroke: P.pct[k], width: k === 2 ? 2.2 : 1.6, spanGaps: true, points: { show: true, size: 4 }, value: vfmt(fmtMs) };
      })),
      plugins: [markPlugin(capNeedMarks(m, false), 'x', m.cap != null && !m.capLowerBound ? m.cap : null)],
    }, [m.x, trip[0], trip[1], trip[2]]);
  }
  function overTime(box, m) {
    var s = m.series;
    var per = D.seriesBucketS === 1 ? 'per second' : 'per ' + D.seriesBucketS + ' s';
    if (!s) { card(box, 'Latency over time', 'This report holds no per-second series (written by an older dsprobe, or merged from shards).'); return; }
    [['Time to first token over time (' + per + ')', s.ttft50, s.ttft99], ['End-to-end latency over time (' + per + ')', s.e2e50, s.e2e99]].forEach(function (spec) {
      if (allNull(spec[1]) && allNull(spec[2])) { card(box, spec[0], 'No successful request.'); return; }
      var c = card(box, spec[0]);
      plot(c, {
        scales: { x: { time: false } },
        axes: [{ label: 'seconds since start' }, { label: 'ms', size: 60 }],
        series: [{ label: 't', value: vfmt(fmtS) },
          { label: 'p50', stroke: P.pct[0], width: 1.6, spanGaps: false, value: vfmt(fmtMs) },
          { label: 'p99', stroke: P.pct[2], width: 2.2, spanGaps: false, value: vfmt(fmtMs) }],
      }, [s.t, spec[1], spec[2]], 180);
    });
    // 429s are left to the in-flight chart: at the cap they number in the thousands and would flatten these.
    var c = card(box, 'Errors and timeouts over time (' + per + ')');
    plot(c, {
      scales: { x: { time: false }, y: { range: function (u, lo, hi) { return [0, Math.max(1, Math.ceil((hi || 0) * 1.1))]; } } },
      axes: [{ label: 'seconds since start' }, { label: 'requests', size: 60 }],
      series: [{ label: 't', value: vfmt(fmtS) },
        { label: 'errors', stroke: '#cf222e', width: 1.8, value: vfmt(fmtInt) },
        { label: 'timeouts', stroke: '#9a6700', width: 1.8, dash: [5, 3], value: vfmt(fmtInt) }],
    }, [s.t, s.errors, s.timeouts], 180);
  }
  function timelineChart(box, m) {
    var t = m.timeline;
    if (!t.t.length) { card(box, 'In flight over time', 'No timeline recorded.'); return; }
    var c = card(box, 'In flight over time (dots: 429s per interval, right axis)');
    plot(c, {
      scales: { x: { time: false }, y: { range: function (u, lo, hi) { return [0, Math.max(hi || 1, (m.cap || 0) * 1.08, (m.need || 0) * 1.08)]; } }, r: { auto: true } },
      axes: [{ label: 'seconds since start' }, { label: 'in flight', size: 60 },
        { side: 1, scale: 'r', label: '429s', size: 50, grid: { show: false } }],
      series: [{ label: 't', value: vfmt(fmtS) },
        { label: 'in flight', stroke: m.color, width: 1.5, fill: tint(m.color, 0.07), value: vfmt(fmtInt) },
        { label: 'target', stroke: P.target, width: 1, dash: [4, 3], value: vfmt(fmtInt) },
        { label: '429s', scale: 'r', stroke: '#d1242f', fill: '#d1242f', paths: function () { return null; },
          points: { show: true, size: 5, fill: '#d1242f' }, value: vfmt(fmtInt) }],
      plugins: [markPlugin(capNeedMarks(m, false), 'y', m.cap != null && !m.capLowerBound ? m.cap : null)],
    }, [t.t, t.inflight, t.target, t.r429]);
  }
  function distChart(box, m) {
    if (!m.dist.length) { card(box, 'End-to-end latency distribution by level', 'No successful request to draw.'); return; }
    var c = card(box, 'End-to-end latency distribution by level (HDR; light: low level, dark: high)');
    var labels = { 0: '0%', 1: '90%', 2: '99%', 3: '99.9%', 4: '99.99%', 5: 'max' };
    var n = m.dist.length;
    var nines = function (v) { return v >= 5 ? 'max' : (100 - Math.pow(10, 2 - v)).toFixed(v > 2 ? 2 : 0) + '%'; };
    plot(c, {
      scales: { x: { time: false, range: [0, 5] }, y: { distr: 3 } },
      axes: [{ label: 'percentile', splits: function () { return [0, 1, 2, 3, 4, 5]; },
        values: function (u, vs) { return vs.map(function (v) { return labels[v] || ''; }); } },
        { label: 'ms (log)', size: 60 }],
      series: [{ label: 'percentile', value: vfmt(nines) }].concat(m.dist.map(function (d, k) {
        // Viridis from light to dark as the level rises (skipping the palest end, which vanishes on white).
        var idx = n === 1 ? P.hdr.length - 3 : 1 + Math.round((k * (P.hdr.length - 2)) / (n - 1));
        var over = m.cap != null && !m.capLowerBound && d.level > m.cap;
        return { label: d.level.toLocaleString('en-US') + ' in flight' + (over ? ' (over cap)' : ''), stroke: P.hdr[Math.min(P.hdr.length - 1, idx)], width: 1.6,
          dash: over ? [5, 3] : undefined, value: vfmt(fmtMs) };
      })),
    }, [m.distX].concat(m.dist.map(function (d) { return d.ms.map(function (v) { return v > 0 ? v : 0.001; }); })));
  }
  function breakdownCharts(box, m) {
    m.breakdowns.forEach(function (b) {
      var c = card(box, '429 rate by ' + b.by + ' against requests in flight');
      plot(c, {
        scales: { x: { time: false }, y: { range: function (u, lo, hi) { return [0, Math.min(100, Math.max(5, Math.ceil((hi || 0) * 1.15)))]; } } },
        axes: [{ label: 'requests in flight' }, { label: '429 %', size: 50 }],
        series: [{ label: 'in flight', value: vfmt(fmtInt) }].concat(b.labels.map(function (l, k) {
          return { label: l, stroke: P.hdr[Math.min(P.hdr.length - 1, 2 + k)], width: 1.8, spanGaps: true, points: { show: true, size: 4 }, value: vfmt(fmtPct) };
        })),
        plugins: [markPlugin(capNeedMarks(m, false), 'x', m.cap != null && !m.capLowerBound ? m.cap : null)],
      }, [b.x].concat(b.rate429));
    });
  }
  function perModel() {
    var grid = document.getElementById('model-charts');
    if (!grid) return;
    var cols = [];
    D.models.forEach(function (m) {
      var col = el('div', 'model-col');
      var h = el('h3', 'model-name', modelLabel(m));
      h.style.borderColor = m.color;
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
      overTime(col, m);
      distChart(col, m);
      breakdownCharts(col, m);
    });
  }

  function resizeAll() {
    charts.forEach(function (c) {
      var w = widthOf(c.box);
      if (Math.abs(w - c.u.width) > 2) c.u.setSize({ width: w, height: c.u.height });
    });
  }

  headroomPanel();
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
