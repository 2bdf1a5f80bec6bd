#include "driftrec/report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace driftrec::report {

namespace {
constexpr double kW = 640, kH = 300, kLeft = 64, kRight = 150, kTop = 34, kBottom = 46;

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}
std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}
std::string tick_label(double v) {
  const double a = std::abs(v);
  if (a < 1e5 && v == std::round(v)) return fmt("%.0f", v);
  if (a != 0 && (a < 1e-3 || a >= 1e5)) return fmt("%.1e", v);
  if (a >= 100) return fmt("%.0f", v);
  if (a >= 1) return fmt("%.2f", v);
  return fmt("%.3f", v);
}
std::string open_svg(const std::string& id, const std::string& title, double h = kH) {
  return "<figure class=\"chart\" id=\"" + escape(id) + "\"><figcaption>" + escape(title) +
         "</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + num(kW) + " " + num(h) +
         "\" role=\"img\" aria-label=\"" + escape(title) + "\">";
}
std::string close_svg() { return "</svg></figure>\n"; }
std::string legend(const std::vector<std::string>& names, const std::string& chart_id) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const double y = kTop + 8 + 18.0 * static_cast<double>(i);
    s += "<g class=\"legend\" data-chart=\"" + escape(chart_id) + "\" data-series=\"" + std::to_string(i) +
         "\"><rect x=\"" + num(kW - kRight + 12) + "\" y=\"" + num(y - 9) + "\" width=\"12\" height=\"12\" fill=\"" +
         colour(i) + "\"/><text x=\"" + num(kW - kRight + 30) + "\" y=\"" + num(y + 1) + "\">" +
         escape(names[i].substr(0, 22)) + "</text></g>";
  }
  return s;
}
struct Scale {
  double lo, hi, a, b;  // value range -> pixel range
  bool log;
  double operator()(double v) const {
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return a + t * (b - a);
  }
};
std::string axes(const Scale& x, const Scale& y, const std::string& xl, const std::string& yl, bool x_ticks = true) {
  std::string s = "<g class=\"axes\"><line x1=\"" + num(kLeft) + "\" y1=\"" + num(kH - kBottom) + "\" x2=\"" +
                  num(kW - kRight) + "\" y2=\"" + num(kH - kBottom) + "\"/><line x1=\"" + num(kLeft) + "\" y1=\"" +
                  num(kTop) + "\" x2=\"" + num(kLeft) + "\" y2=\"" + num(kH - kBottom) + "\"/>";
  for (int i = 0; i <= 4; ++i) {
    const double v = y.lo + (y.hi - y.lo) * i / 4.0;
    s += "<line class=\"grid\" x1=\"" + num(kLeft) + "\" x2=\"" + num(kW - kRight) + "\" y1=\"" + num(y(v)) +
         "\" y2=\"" + num(y(v)) + "\"/><text class=\"tick\" x=\"" + num(kLeft - 6) + "\" y=\"" + num(y(v) + 4) +
         "\" text-anchor=\"end\">" + tick_label(v) + "</text>";
  }
  if (x_ticks) {
    std::vector<double> xs;
    if (x.log) {
      for (double v = std::pow(10.0, std::floor(std::log10(x.lo))); v <= x.hi * 1.0001; v *= 10)
        for (double m : {1.0, 2.0, 5.0})
          if (v * m >= x.lo * 0.9999 && v * m <= x.hi * 1.0001) xs.push_back(v * m);
    } else {
      for (int i = 0; i <= 5; ++i) xs.push_back(x.lo + (x.hi - x.lo) * i / 5.0);
    }
    for (const double v : xs)
      s += "<text class=\"tick\" x=\"" + num(x(v)) + "\" y=\"" + num(kH - kBottom + 16) + "\" text-anchor=\"middle\">" +
           tick_label(v) + "</text>";
  }
  s += "<text class=\"label\" x=\"" + num((kLeft + kW - kRight) / 2) + "\" y=\"" + num(kH - 8) +
       "\" text-anchor=\"middle\">" + escape(xl) + "</text><text class=\"label\" transform=\"translate(14," +
       num((kTop + kH - kBottom) / 2) + ") rotate(-90)\" text-anchor=\"middle\">" + escape(yl) + "</text></g>";
  return s;
}
}  // namespace

std::string escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string colour(std::size_t i) {
  static const char* p[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
                            "#D55E00", "#F0E442", "#000000", "#999999"};
  return p[i % 9];
}

std::string line_chart(const std::string& id, const std::string& title, const std::string& x_label,
                       const std::string& y_label, const std::vector<Series>& series, bool log_x) {
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  for (const auto& s : series)
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (log_x && s.x[i] <= 0)) continue;
      xlo = std::min(xlo, s.x[i]), xhi = std::max(xhi, s.x[i]);
      ylo = std::min(ylo, s.y[i]), yhi = std::max(yhi, s.y[i]);
    }
  std::string out = open_svg(id, title);
  if (!std::isfinite(xlo)) return out + "<text x=\"20\" y=\"60\">no data</text>" + close_svg();
  if (xhi == xlo) xhi = xlo + 1, xlo = log_x ? xlo : xlo - 1;
  const double pad = (yhi - ylo) * 0.08 + (yhi == ylo ? std::max(std::abs(yhi) * 0.1, 1e-9) : 0);
  ylo -= pad, yhi += pad;
  if (ylo < 0 && std::all_of(series.begin(), series.end(), [](const Series& s) {
        return std::all_of(s.y.begin(), s.y.end(), [](double v) { return !(v < 0); });
      }))
    ylo = 0;
  const Scale x{xlo, xhi, kLeft + 8, kW - kRight - 8, log_x}, y{ylo, yhi, kH - kBottom, kTop, false};
  out += axes(x, y, x_label, y_label);
  std::vector<std::string> names;
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    names.push_back(s.name);
    std::string pts, marks;
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (log_x && s.x[i] <= 0)) continue;
      pts += num(x(s.x[i])) + "," + num(y(s.y[i])) + " ";
      marks += "<circle cx=\"" + num(x(s.x[i])) + "\" cy=\"" + num(y(s.y[i])) + "\" r=\"2.5\"><title>" +
               escape(s.name) + ": " + tick_label(s.x[i]) + " → " + fmt("%.5g", s.y[i]) + "</title></circle>";
    }
    out += "<g class=\"series series-" + std::to_string(k) + "\" fill=\"" + colour(k) + "\" stroke=\"" + colour(k) +
           "\"><polyline fill=\"none\" stroke-width=\"2\" points=\"" + pts + "\"/>" + marks + "</g>";
  }
  return out + legend(names, id) + close_svg();
}

std::string grouped_bars(const std::string& id, const std::string& title, const std::vector<std::string>& groups,
                         const std::vector<Series>& series, const std::string& y_label) {
  double hi = 0;
  for (const auto& s : series)
    for (const double v : s.y)
      if (std::isfinite(v)) hi = std::max(hi, v);
  if (hi <= 0) hi = 1;
  std::string out = open_svg(id, title);
  const Scale x{0, static_cast<double>(std::max<std::size_t>(1, groups.size())), kLeft, kW - kRight, false};
  const Scale y{0, hi * 1.1, kH - kBottom, kTop, false};
  out += axes(x, y, "", y_label, false);
  const double gw = (x.b - x.a) / static_cast<double>(std::max<std::size_t>(1, groups.size()));
  const double bw = gw * 0.8 / static_cast<double>(std::max<std::size_t>(1, series.size()));
  std::vector<std::string> names;
  for (std::size_t k = 0; k < series.size(); ++k) {
    names.push_back(series[k].name);
    out += "<g class=\"series series-" + std::to_string(k) + "\" fill=\"" + colour(k) + "\">";
    for (std::size_t g = 0; g < groups.size() && g < series[k].y.size(); ++g) {
      const double v = series[k].y[g];
      if (!std::isfinite(v)) continue;
      const double x0 = x.a + gw * static_cast<double>(g) + gw * 0.1 + bw * static_cast<double>(k);
      out += "<rect x=\"" + num(x0) + "\" y=\"" + num(y(v)) + "\" width=\"" + num(bw * 0.92) + "\" height=\"" +
             num(y(0) - y(v)) + "\"><title>" + escape(series[k].name + " · " + groups[g]) + ": " + fmt("%.4g", v) +
             "</title></rect>";
    }
    out += "</g>";
  }
  for (std::size_t g = 0; g < groups.size(); ++g)
    out += "<text class=\"tick\" x=\"" + num(x.a + gw * (static_cast<double>(g) + 0.5)) + "\" y=\"" +
           num(kH - kBottom + 16) + "\" text-anchor=\"middle\">" + escape(groups[g].substr(0, 14)) + "</text>";
  return out + legend(names, id) + close_svg();
}

std::string bar_chart(const std::string& id, const std::string& title, const std::vector<std::string>& labels,
                      const std::vector<double>& values, const char* format) {
  double hi = 0;
  for (const double v : values)
    if (std::isfinite(v)) hi = std::max(hi, v);
  if (hi <= 0) hi = 1;
  std::string out = open_svg(id, title);
  const Scale x{0, static_cast<double>(std::max<std::size_t>(1, labels.size())), kLeft, kW - kRight, false};
  const Scale y{0, hi * 1.15, kH - kBottom, kTop, false};
  out += axes(x, y, "", "", false);
  const double gw = (x.b - x.a) / static_cast<double>(std::max<std::size_t>(1, labels.size()));
  for (std::size_t i = 0; i < labels.size() && i < values.size(); ++i) {
    if (!std::isfinite(values[i])) continue;
    const double x0 = x.a + gw * static_cast<double>(i) + gw * 0.15;
    out += "<g class=\"bar\"><rect x=\"" + num(x0) + "\" y=\"" + num(y(values[i])) + "\" width=\"" + num(gw * 0.7) +
           "\" height=\"" + num(y(0) - y(values[i])) + "\" fill=\"" + colour(i) + "\"><title>" + escape(labels[i]) +
           ": " + fmt("%.5g", values[i]) + "</title></rect><text class=\"tick\" x=\"" + num(x0 + gw * 0.35) +
           "\" y=\"" + num(y(values[i]) - 4) + "\" text-anchor=\"middle\">" + fmt(format, values[i]) +
           "</text><text class=\"tick\" x=\"" + num(x0 + gw * 0.35) + "\" y=\"" + num(kH - kBottom + 16) +
           "\" text-anchor=\"middle\">" + escape(labels[i].substr(0, 16)) + "</text></g>";
  }
  return out + close_svg();
}

std::string stacked_columns(const std::string& id, const std::string& title, const std::vector<std::string>& cols,
                            const std::vector<std::string>& rows, const std::vector<std::vector<double>>& shares) {
  std::string out = open_svg(id, title);
  const Scale x{0, static_cast<double>(std::max<std::size_t>(1, cols.size())), kLeft, kW - kRight, false};
  const Scale y{0, 1, kH - kBottom, kTop, false};
  out += axes(x, y, "", "share", false);
  const double gw = (x.b - x.a) / static_cast<double>(std::max<std::size_t>(1, cols.size()));
  for (std::size_t c = 0; c < cols.size() && c < shares.size(); ++c) {
    double acc = 0;
    for (std::size_t r = 0; r < rows.size() && r < shares[c].size(); ++r) {
      const double v = std::isfinite(shares[c][r]) ? std::max(0.0, shares[c][r]) : 0.0;
      if (v <= 0) continue;
      out += "<rect class=\"series series-" + std::to_string(r) + "\" x=\"" +
             num(x.a + gw * static_cast<double>(c) + gw * 0.08) + "\" y=\"" + num(y(std::min(1.0, acc + v))) +
             "\" width=\"" + num(gw * 0.84) + "\" height=\"" + num(y(acc) - y(std::min(1.0, acc + v))) + "\" fill=\"" +
             colour(r) + "\"><title>" + escape(cols[c] + " · " + rows[r]) + ": " + fmt("%.0f%%", 100 * v) +
             "</title></rect>";
      acc += v;
    }
    out += "<text class=\"tick\" x=\"" + num(x.a + gw * (static_cast<double>(c) + 0.5)) + "\" y=\"" +
           num(kH - kBottom + 16) + "\" text-anchor=\"middle\">" + escape(cols[c].substr(0, 10)) + "</text>";
  }
  return out + legend(rows, id) + close_svg();
}

std::string heat_map(const std::string& id, const std::string& title, const std::vector<std::string>& row_labels,
                     const std::vector<std::string>& col_labels, const std::vector<std::vector<double>>& values) {
  double m = 0;
  for (const auto& r : values)
    for (const double v : r)
      if (std::isfinite(v)) m = std::max(m, std::abs(v));
  if (m <= 0) m = 1;
  const double left = 150, top = 30,
               cw = std::min(40.0, (kW - left - 10) / static_cast<double>(std::max<std::size_t>(1, col_labels.size())));
  const double ch = 22, h = top + ch * static_cast<double>(row_labels.size()) + 70;
  std::string out = open_svg(id, title, h);
  for (std::size_t r = 0; r < row_labels.size(); ++r) {
    out += "<text class=\"tick\" x=\"" + num(left - 6) + "\" y=\"" + num(top + ch * (static_cast<double>(r) + 0.65)) +
           "\" text-anchor=\"end\">" + escape(row_labels[r].substr(0, 22)) + "</text>";
    for (std::size_t c = 0; c < col_labels.size() && r < values.size() && c < values[r].size(); ++c) {
      const double v = std::isfinite(values[r][c]) ? values[r][c] / m : 0.0;
      const int a = static_cast<int>(255 * (1 - std::min(1.0, std::abs(v))));
      const std::string fill = v >= 0 ? "rgb(255," + std::to_string(a) + "," + std::to_string(a) + ")"
                                      : "rgb(" + std::to_string(a) + "," + std::to_string(a) + ",255)";
      out += "<rect class=\"cell\" x=\"" + num(left + cw * static_cast<double>(c)) + "\" y=\"" +
             num(top + ch * static_cast<double>(r)) + "\" width=\"" + num(cw - 1) + "\" height=\"" + num(ch - 1) +
             "\" fill=\"" + fill + "\"><title>" + escape(row_labels[r] + " ← " + col_labels[c]) + ": " +
             fmt("%.4g", values[r][c]) + "</title></rect>";
    }
  }
  for (std::size_t c = 0; c < col_labels.size(); ++c)
    out += "<text class=\"tick\" transform=\"translate(" + num(left + cw * (static_cast<double>(c) + 0.6)) + "," +
           num(top + ch * static_cast<double>(row_labels.size()) + 6) + ") rotate(60)\">" +
           escape(col_labels[c].substr(0, 12)) + "</text>";
  return out + close_svg();
}

std::string page(const std::string& title, const std::string& body) {
  return R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>)" +
         escape(title) + R"(</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2433;background:#f6f7fb}
header{background:#1d2433;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c9d1e3}
main{max-width:1320px;margin:0 auto;padding:12px 24px 40px}section{background:#fff;border-radius:10px;padding:14px 18px;margin:16px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:17px;margin:4px 0 10px}h3{font-size:15px;margin:10px 0 6px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:10px}
figure.chart{margin:0}figcaption{font-weight:600;margin:4px 0}svg{width:100%;height:auto;font-size:11px}
svg .axes line{stroke:#555}svg line.grid{stroke:#e3e6ee}svg .tick{fill:#444}svg .label{fill:#222;font-size:12px}svg .legend{cursor:pointer}
svg .off{opacity:.08}table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{padding:5px 8px;border-bottom:1px solid #e6e8ef;text-align:right}
th:first-child,td:first-child{text-align:left}td.sig{font-weight:700;color:#0a7a3b}td.worse.sig{color:#b3261e}.note{color:#5b6478;font-size:12px}
</style></head><body>
<header><h1>)" +
         escape(title) + R"(</h1><p>DriftRec report · self-contained: open it anywhere, no network needed</p></header>
<main>
)" + body +
         R"(
</main>
<script>
(function () {
  document.querySelectorAll('g.legend').forEach(function (g) {
    g.addEventListener('click', function () {
      var fig = document.getElementById(g.getAttribute('data-chart'));
      fig.querySelectorAll('.series-' + g.getAttribute('data-series')).forEach(function (s) { s.classList.toggle('off'); });
      g.classList.toggle('off');
    });
  });
  console.log('driftrec-report-ready ' + document.querySelectorAll('figure.chart').length + ' charts');
})();
</script>
</body></html>
)";
}

}  // namespace driftrec::report
