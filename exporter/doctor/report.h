// Rendering the doctor's results: a text report for people, JSON for machines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exporter/doctor/checks.h"

namespace gvisor_exporter::doctor {

// 1 when any check FAILed, else 0 (WARN does not fail the run).
int ExitCode(const std::vector<CheckResult>& checks);

// One line per check, "[ OK ] name  detail", with an indented "fix:" line
// under WARN/FAIL, then a summary. Control characters from configs or
// sandboxes are replaced, so nothing read can drive the terminal.
std::string RenderText(const std::vector<CheckResult>& checks);

// {"checks":[{"name","status","detail","hint","data"}...],
//  "summary":{"ok","warn","fail"},"exit_code"}
nlohmann::json RenderJson(const std::vector<CheckResult>& checks);
// RenderJson as one line; invalid UTF-8 from any input is replaced, never thrown on.
std::string RenderJsonText(const std::vector<CheckResult>& checks);

}  // namespace gvisor_exporter::doctor
