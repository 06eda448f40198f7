// Internals shared by the renderers.
#pragma once

#include <utility>

#include "exporter/collectors/family_builder.h"
#include "exporter/collectors/render.h"

namespace gvisor_exporter {

// A FamilyBuilder that can also emit its family without samples (see
// `keep_empty` in render.h).
class RangeFamilyBuilder : public FamilyBuilder {
 public:
  explicit RangeFamilyBuilder(const MetricDef& def) : FamilyBuilder(def), def_(def) {}

  void MoveTo(Families* out, bool keep_empty) {
    if (!empty() || !keep_empty) {
      FamilyBuilder::MoveTo(out);
      return;
    }
    prometheus::MetricFamily f;
    f.name = def_.name;
    f.help = def_.help;
    f.type = def_.type;
    out->push_back(std::move(f));
  }

 private:
  const MetricDef& def_;
};

}  // namespace gvisor_exporter
