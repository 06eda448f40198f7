// The exporter's top level: parse flags, wire sources to the poller and the
// HTTP server, run until SIGTERM/SIGINT.
#pragma once

namespace gvisor_exporter {

int RunExporter(int argc, char** argv);

}  // namespace gvisor_exporter
