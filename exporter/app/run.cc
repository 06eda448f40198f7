#include "exporter/app/run.h"

#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string_view>

#include "exporter/app/flags.h"
#include "exporter/app/logging.h"
#include "exporter/app/source_list.h"
#include "exporter/collectors/metric_catalog.h"
#include "exporter/collectors/snapshot_collector.h"
#include "exporter/common/kept_files.h"
#include "exporter/common/log.h"
#include "exporter/common/version.h"
#include "exporter/doctor/doctor.h"
#include "exporter/http/http_server.h"
#include "exporter/http/web_config.h"
#include "exporter/sources/host/self_process.h"
#include "exporter/sources/host/taskstats.h"

namespace gvisor_exporter {

namespace {

// Waits for SIGTERM/SIGINT with sigwait (signals blocked in every thread, so
// no async-signal-safety concerns).
int WaitForTermination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace

int RunExporter(int argc, char** argv) {
  auto flags = ParseFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!flags.ok()) {
    const bool doctor = argc > 1 && std::string_view(argv[1]) == "doctor";
    std::fprintf(stderr, "gvisor-exporter: %s\nRun `gvisor-exporter%s --help` for the flags.\n",
                 flags.status().message().c_str(), doctor ? " doctor" : "");
    return 2;
  }
  if (flags->help) {
    std::cout << FlagsUsage(flags->doctor.has_value());
    return 0;
  }
  // `gvisor-exporter doctor ...`: a one-shot, read-only check of the node.
  if (flags->doctor) return RunDoctor(*flags->doctor);
  // /proc and cgroup files stay open between polls (~11 per sandbox, see
  // common/kept_files.h), sized from the soft limit: raise it to the hard
  // limit, as the Go runtime does for every Go exporter.
  RaiseFileLimit();
  // Block termination signals before any thread starts; SIGPIPE is ignored so a
  // peer closing a socket is an error value, not a crash.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (flags->version) {
    std::cout << "gvisor-exporter " << kVersion << "\n";
    return 0;
  }
  if (flags->print_metrics_doc) {
    std::cout << GenerateMetricsMarkdown();
    return 0;
  }
  SetUpLogging(flags->log_level, flags->log_format);
  HttpOptions http_options{flags->listen_address, flags->telemetry_path, 4};
  if (!flags->web_config_file.empty()) {
    // Checked before anything starts: a bad file is an exit at start, like a
    // Go exporter's, with the file and the problem in the message.
    auto web = ReadWebConfigFile(flags->web_config_file);
    if (!web.ok()) {
      LogError("invalid --web.config.file", {{"err", web.status().message()}});
      return 1;
    }
    http_options.web = std::move(*web);
  }

  ErrorReporter errors;
  SnapshotStore store;
  PollerOptions poll_options;
  poll_options.interval = flags->poll_interval;
  poll_options.concurrency = flags->poll_concurrency;
  // The exporter's own /proc, not --path.procfs (see self_process.h).
  auto self = std::make_shared<SelfProcessReader>();
  auto collector =
      std::make_shared<SnapshotCollector>(&store, &errors, [self] { return self->Read(); });
  poll_options.after_publish = [collector, self] {
    self->CountOpenFds();
    collector->Prepare();
    // A poll frees what it built (the previous snapshot, the previous text,
    // the sources' temporaries); glibc keeps freed memory in its arenas, which
    // at 200 sandboxes was ~27 MiB of RSS holding nothing when rendering still
    // built families (~4x the text). Give it back once
    // per poll (measured: <= 7 ms at 500 sandboxes with syscall statistics)
    // when there is that much to give: at least 2 MiB and half of what is in
    // use. Trimming madvises every free run of pages in every arena, ~50
    // system calls a poll even for a dozen sandboxes.
    constexpr size_t kWorthTrimmingBytes = size_t{2} << 20;
    const struct mallinfo2 heap = mallinfo2();
    if (heap.fordblks >= std::max(kWorthTrimmingBytes, heap.uordblks / 2)) malloc_trim(0);
  };

  const bool tls = http_options.web.tls_enabled;
  const bool basic_auth = !http_options.web.basic_auth_users.empty();
  const auto interval = flags->poll_interval;
  HttpServer server(
      std::move(http_options), {collector},
      [&store, interval] {
        // Healthy while polls keep coming: a snapshot older than three intervals
        // (plus slack for slow sandboxes) means the poller is stuck.
        auto snap = store.Get();
        if (!snap) return std::make_pair(true, std::string("ok: first poll in progress"));
        const double now =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        const double age = now - snap->timestamp_seconds;
        const double limit = 3 * std::chrono::duration<double>(interval).count() + 30;
        if (age > limit) {
          return std::make_pair(false, "unhealthy: last poll " + std::to_string(age) + "s ago");
        }
        return std::make_pair(true, std::string("ok"));
      },
      &store);
  Status started = server.Start();
  if (!started.ok()) {
    LogError("cannot start HTTP server", {{"err", started.message()}});
    return 1;
  }
  LogInfo("gvisor-exporter listening",
          {{"version", kVersion},
           {"address", flags->listen_address},
           {"telemetry_path", flags->telemetry_path},
           {"poll_interval_ms", static_cast<int64_t>(flags->poll_interval.count())},
           {"tls", tls},
           {"basic_auth", basic_auth}});
  if (flags->host) {
    // Say once how host context switches are read: the fallback costs a
    // status file per thread (~13 per sentry) on every poll.
    Status taskstats = ProbeTaskstats();
    if (!taskstats.ok()) {
      LogInfo("context switches read per thread from /proc: taskstats unavailable",
              {{"err", taskstats.message()},
               {"hint", "grant CAP_NET_ADMIN to use taskstats (docs/deploy.md)"}});
    }
  }
  // Sources after the server: a bad certificate stops the exporter before any
  // of them opens a socket or a trace session.
  Poller poller(poll_options, MakeSources(*flags, &errors), &store, &errors);
  poller.Start();
  const int sig = WaitForTermination();
  LogInfo("shutting down", {{"signal", sig}});
  poller.Stop();
  return 0;
}

}  // namespace gvisor_exporter
