#include "exporter/collectors/text_format.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <limits>
#include <random>

namespace gvisor_exporter {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

std::string Ours(const std::vector<MetricFamily>& f) {
  std::string out;
  AppendTextFormat(f, &out);
  return out;
}

MetricFamily Family(const std::string& name, MetricType type, const std::string& help) {
  MetricFamily f;
  f.name = name;
  f.type = type;
  f.help = help;
  return f;
}

void AddSample(MetricFamily* f, const std::vector<std::pair<std::string, std::string>>& labels,
               double v) {
  prometheus::ClientMetric m;
  for (auto& [k, val] : labels) m.label.push_back({k, val});
  if (f->type == MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  f->metric.push_back(m);
}

TEST(TextFormat, ExactBytes) {
  auto g = Family("gvisor_x_bytes", MetricType::Gauge, "Help with \\ and\nnewline.");
  AddSample(&g, {{"pod", "a\"b\\c\nd"}, {"ns", ""}}, 1.5);
  AddSample(&g, {}, 0);
  auto c = Family("gvisor_y_total", MetricType::Counter, "");
  AddSample(&c, {{"k", "v"}}, 1e21);
  EXPECT_EQ(Ours({g, c}),
            "# HELP gvisor_x_bytes Help with \\\\ and\\nnewline.\n"
            "# TYPE gvisor_x_bytes gauge\n"
            "gvisor_x_bytes{pod=\"a\\\"b\\\\c\\nd\",ns=\"\"} 1.5\n"
            "gvisor_x_bytes 0\n"
            "# TYPE gvisor_y_total counter\n"
            "gvisor_y_total{k=\"v\"} 1e+21\n");
}

// An empty family or one of another type: nothing.
TEST(TextFormat, EmptyFamiliesAndOtherTypesAreNotWritten) {
  EXPECT_EQ(Ours({Family("gvisor_empty", MetricType::Gauge, "Nothing.")}), "");
  auto summary = Family("gvisor_s", MetricType::Summary, "Not written.");
  AddSample(&summary, {}, 1);
  std::string none;
  EXPECT_FALSE(AppendFamilyHeader(summary.name, summary.type, summary.help, &none));
  EXPECT_EQ(none, "");
  EXPECT_EQ(Ours({summary}), "");
}

// Differential: the same bytes as prometheus-cpp's serializer, for values and
// label strings of every awkward kind.
TEST(TextFormat, SameBytesAsPrometheusCppSerializer) {
  std::mt19937_64 rng(42);
  const double specials[] = {0,
                             -0.0,
                             1,
                             -1,
                             0.1,
                             1.0 / 3,
                             123456789012345678.0,
                             4.2e-9,
                             1e300,
                             std::numeric_limits<double>::min(),
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             std::nan(""),
                             87000000,
                             0.000372439,
                             18446744073709551615.0};
  const std::string strings[] = {
      "",        "plain",        "quo\"te",  "back\\slash",        "new\nline",
      "ünïcödé", "\xEF\xBF\xBD", "a,b=c{d}", std::string(300, 'x')};
  std::vector<MetricFamily> families;
  for (int fi = 0; fi < 20; ++fi) {
    // HELP texts without \\ and newline: prometheus-cpp 1.0.1 does not escape
    // them in HELP (the format says to; ExactBytes checks that we do).
    auto f =
        Family("gvisor_m" + std::to_string(fi), fi % 2 ? MetricType::Counter : MetricType::Gauge,
               fi % 3 ? "Some help, with \"quotes\" and ünïcödé." : "");
    for (int i = 0; i < 30; ++i) {
      double v = i < static_cast<int>(std::size(specials))
                     ? specials[i]
                     : std::ldexp(static_cast<double>(rng() % 1000000) - 500000.0,
                                  static_cast<int>(rng() % 80) - 40);
      AddSample(&f, {{"a", strings[rng() % std::size(strings)]}, {"b", strings[i % 9]}}, v);
    }
    families.push_back(f);
  }
  const std::string ours = Ours(families),
                    theirs = prometheus::TextSerializer().Serialize(families);
  size_t i = 0;
  while (i < ours.size() && i < theirs.size() && ours[i] == theirs[i]) ++i;
  EXPECT_EQ(i, theirs.size()) << "first difference at byte " << i
                              << ":\n ours: " << ours.substr(i > 60 ? i - 60 : 0, 120)
                              << "\n theirs: " << theirs.substr(i > 60 ? i - 60 : 0, 120);
  EXPECT_EQ(ours.size(), theirs.size());
}

}  // namespace
}  // namespace gvisor_exporter
