// Reading and parsing the command lines of runsc processes.
//
// runsc parses its global flags with Go's `flag` package (through
// google/subcommands): `-name`, `--name`, `-name=value`, `--name=value`, and
// `--name value` for non-boolean flags only (a boolean takes no separate
// value). Parsing stops at the first non-flag argument (the subcommand) or
// after "--".
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/common/status.h"

namespace gvisor_exporter {

// Splits raw /proc/<pid>/cmdline bytes at NULs (a trailing NUL ends the last
// argument; empty input -> no arguments), keeping at most `max_args`.
std::vector<std::string> SplitCmdline(std::string_view raw, size_t max_args = 4096);

// Reads /proc/<pid>/cmdline (at most 128 KiB). An empty vector means a
// process without arguments (a ptrace stub, a zombie, a kernel thread).
StatusOr<std::vector<std::string>> ReadCmdline(const std::string& proc_root, int64_t pid);

// The global flags of argv (argv[0] is the program) and where they end.
struct GlobalFlags {
  // name -> value; the last occurrence wins (as in Go). A boolean flag given
  // without a value is "true".
  std::map<std::string, std::string> values;
  // Index of the subcommand in argv; argv.size() when there is none.
  size_t subcommand_index = 0;
};

// Parses the global flags of a runsc command line as Go's flag package would.
// Whether `--name value` takes the next argument depends on the flag being a
// boolean: known runsc booleans never do; other flags take it unless it looks
// like a flag itself (starts with '-' and is not a negative number) or is the
// boot/gofer/umount subcommand (a boolean of a newer runsc we do not know).
// runsc itself always writes `--name=value` into the sentry's command line,
// so the guess only matters for hand-written command lines.
GlobalFlags ParseGlobalFlags(const std::vector<std::string>& argv);

// Index in argv of the subcommand ("boot", "gofer", ...), argv.size() if none.
size_t SubcommandIndex(const std::vector<std::string>& argv);

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False.
// False when `s` is none of them.
bool ParseGoBool(std::string_view s, bool* value);

}  // namespace gvisor_exporter
