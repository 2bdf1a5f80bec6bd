#pragma once
// Hand-written SVG charts and the self-contained HTML page of `driftrec report` (no network, no
// external scripts: every chart is inline SVG; a few lines of inline JavaScript toggle series
// from the legends). Every text is HTML-escaped; non-finite values are skipped.
#include <string>
#include <vector>

namespace driftrec::report {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

/// Escapes &, <, >, " and '.
std::string escape(const std::string& s);

/// Line chart with markers and a clickable legend. `log_x` spaces x logarithmically (x > 0).
std::string line_chart(const std::string& id, const std::string& title, const std::string& x_label,
                       const std::string& y_label, const std::vector<Series>& series, bool log_x = false);

/// Bar chart: one bar per label (values[i] for labels[i]); `format` is a printf format for the
/// value written above each bar.
std::string bar_chart(const std::string& id, const std::string& title, const std::vector<std::string>& labels,
                      const std::vector<double>& values, const char* format = "%.3f");

/// Grouped bars: groups along x (group_labels), one coloured bar per series in each group.
std::string grouped_bars(const std::string& id, const std::string& title, const std::vector<std::string>& group_labels,
                         const std::vector<Series>& series, const std::string& y_label);

/// Stacked 100% columns: shares[c][r] is row r's share in column c (rows = categories).
std::string stacked_columns(const std::string& id, const std::string& title,
                            const std::vector<std::string>& column_labels, const std::vector<std::string>& row_labels,
                            const std::vector<std::vector<double>>& shares);

/// Heat map: values[r][c]; colour by value / max |value| (positive warm, negative cool), each cell
/// with a tooltip.
std::string heat_map(const std::string& id, const std::string& title, const std::vector<std::string>& row_labels,
                     const std::vector<std::string>& column_labels, const std::vector<std::vector<double>>& values);

/// A whole HTML document around `body` (inline CSS and the legend script). The script logs
/// "driftrec-report-ready" to the console once it has run (tests look for it).
std::string page(const std::string& title, const std::string& body);

/// Colour of series i (a fixed, colour-blind-friendly palette).
std::string colour(std::size_t i);

}  // namespace driftrec::report
