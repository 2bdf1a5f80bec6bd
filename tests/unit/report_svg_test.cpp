// The report's SVG helpers: escaping, skipped non-finite values, element counts.
#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/report/svg.h"

using namespace driftrec;

namespace {
std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}
}  // namespace

TEST(ReportSvg, EscapesEveryText) {
  EXPECT_EQ(report::escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  const auto svg = report::line_chart("c", "<b>title</b>", "x", "y", {{"<script>", {1, 2}, {3, 4}}});
  EXPECT_EQ(svg.find("<script>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;"), std::string::npos);
}

TEST(ReportSvg, LineChartSkipsNonFiniteValues) {
  const auto svg = report::line_chart(
      "c", "t", "x", "y", {{"a", {1, 2, 3, 4}, {0.1, std::nan(""), 0.3, INFINITY}}, {"b", {1, 2}, {0.2, 0.4}}});
  EXPECT_EQ(count(svg, "<circle"), 4u);  // two finite points of a, two of b
  EXPECT_EQ(count(svg, "class=\"legend\""), 2u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_NE(report::line_chart("e", "t", "x", "y", {}).find("no data"), std::string::npos);
}

TEST(ReportSvg, HeatMapAndBars) {
  const auto h = report::heat_map("h", "t", {"r1", "r2"}, {"c1", "c2", "c3"}, {{1, 0, -1}, {0.5, 0.25, 0}});
  EXPECT_EQ(count(h, "class=\"cell\""), 6u);
  EXPECT_NE(h.find("rgb(255,0,0)"), std::string::npos);  // the largest positive weight
  EXPECT_NE(h.find("rgb(0,0,255)"), std::string::npos);  // the largest negative weight
  const auto b = report::bar_chart("b", "t", {"x", "y"}, {1.0, 2.0});
  EXPECT_EQ(count(b, "<rect"), 2u);
  const auto s = report::stacked_columns("s", "t", {"w1", "w2"}, {"c1", "c2"}, {{0.5, 0.5}, {1.0, 0.0}});
  EXPECT_EQ(count(s, "<rect class=\"series"), 3u);  // zero shares draw nothing
  const auto page = report::page("T & co", "<p>x</p>");
  EXPECT_NE(page.find("<title>T &amp; co</title>"), std::string::npos);
  EXPECT_NE(page.find("driftrec-report-ready"), std::string::npos);
}
