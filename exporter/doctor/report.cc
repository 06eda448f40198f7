#include "exporter/doctor/report.h"

#include <algorithm>

#include "exporter/common/text.h"
namespace gvisor_exporter::doctor {

int ExitCode(const std::vector<CheckResult>& checks) {
  return std::any_of(checks.begin(), checks.end(),
                     [](const CheckResult& c) { return c.status == CheckStatus::kFail; })
             ? 1
             : 0;
}

std::string RenderText(const std::vector<CheckResult>& checks) {
  size_t width = 0;
  for (const CheckResult& c : checks) width = std::max(width, std::min<size_t>(c.name.size(), 28));
  std::string out;
  size_t counts[3] = {0, 0, 0};
  for (const CheckResult& c : checks) {
    ++counts[static_cast<int>(c.status)];
    std::string tag = CheckStatusName(c.status);
    if (tag.size() == 2) tag = " " + tag + " ";
    std::string name = ReplaceAsciiControls(c.name);
    if (name.size() < width) name.append(width - name.size(), ' ');
    out += "[" + tag + "] " + name + "  " + ReplaceAsciiControls(c.detail) + "\n";
    if (c.status != CheckStatus::kOk && !c.hint.empty()) {
      out += std::string(width + 9, ' ') + "fix: " + ReplaceAsciiControls(c.hint) + "\n";
    }
  }
  out += "summary: " + std::to_string(counts[0]) + " OK, " + std::to_string(counts[1]) + " WARN, " +
         std::to_string(counts[2]) + " FAIL\n";
  return out;
}

nlohmann::json RenderJson(const std::vector<CheckResult>& checks) {
  nlohmann::json list = nlohmann::json::array();
  size_t counts[3] = {0, 0, 0};
  for (const CheckResult& c : checks) {
    ++counts[static_cast<int>(c.status)];
    list.push_back({{"name", c.name},
                    {"status", CheckStatusName(c.status)},
                    {"detail", c.detail},
                    {"hint", c.hint},
                    {"data", c.data}});
  }
  return {{"checks", list},
          {"summary", {{"ok", counts[0]}, {"warn", counts[1]}, {"fail", counts[2]}}},
          {"exit_code", ExitCode(checks)}};
}

std::string RenderJsonText(const std::vector<CheckResult>& checks) {
  return RenderJson(checks).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace gvisor_exporter::doctor
