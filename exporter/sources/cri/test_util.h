// Test helpers: recorded CRI replies (fixtures in testdata/, captured from containerd
// 1.6.20 with gve-cri-tool) loaded into the protobuf messages.
#pragma once

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <string>

#include "exporter/testing/fixtures.h"

namespace gvisor_exporter::cri_testing {

// The captures are the protobuf JSON mapping with .proto field names (plus a
// decoded copy of the info documents, which the message does not have).
template <typename Message>
Message LoadReply(const std::string& name) {
  Message m;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  auto s = google::protobuf::util::JsonStringToMessage(
      testing::ReadFixture("exporter/sources/cri/testdata/" + name), &m, o);
  EXPECT_TRUE(s.ok()) << name << ": " << s.message();
  return m;
}

}  // namespace gvisor_exporter::cri_testing
