// gvisor-exporter: all logic lives in the libraries; see exporter/app/run.cc.
#include "exporter/app/run.h"

int main(int argc, char** argv) { return gvisor_exporter::RunExporter(argc, argv); }
