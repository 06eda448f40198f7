// Scrape latency, exposition size, RSS and threads vs number of sandboxes,
// over real HTTP.
//
// For each (N sandboxes, syscall statistics off/on, Accept-Encoding: gzip
// off/on) a forked child process, so every RSS figure is that configuration's
// alone:
//   1. records its RSS and threads;
//   2. simulates --polls polls: builds a synthetic snapshot of N sandboxes
//      (bench/synthetic_snapshot.h), publishes it and calls
//      SnapshotCollector::Prepare, as the poller's after_publish does (so two
//      snapshots and their text coexist once, as in the daemon). With gzip
//      on, a gzip exposition is taken before the first poll, as Prometheus's
//      first scrape would, so every Prepare also compresses the text;
//   3. starts the real HttpServer (civetweb, the daemon's 4 worker threads)
//      on 127.0.0.1:0 and does --requests sequential GET /metrics over TCP
//      loopback (with gzip on, sending Accept-Encoding: gzip), each timed from
//      connect() to the end of the response (a gzip body is received, not
//      inflated). The server closes every connection (keep-alive off), so
//      each request opens a fresh one; probe requests check that, and that a
//      gzip body inflates to one gzip member of the exposition's size;
//   4. reports percentiles, sizes, the process's CPU per request, VmRSS /
//      VmHWM / Threads from /proc/self/status, the RSS delta vs step 1 and
//      the live heap (mallinfo2), which tells live memory from freed memory
//      malloc keeps.
// The parent prints markdown tables and the machine it ran on.
//
// Caveat: this is the exporter's library, HTTP server and snapshot in a bench
// process (plus the client), not the daemon with its pollers, control
// connections and trace reader; and the scrapes never overlap a poll.
//
// Trims as the daemon does (after every poll; --no-malloc-trim: not); see Options.
// `--keep-exposition DIR` keeps each exposition (e.g. for promtool check metrics).
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/synthetic_snapshot.h"
#include "exporter/collectors/exposition_body.h"
#include "exporter/collectors/metric_catalog.h"
#include "exporter/collectors/snapshot_collector.h"
#include "exporter/collectors/testing_gzip.h"
#include "exporter/collectors/text_format.h"
#include "exporter/common/error_reporter.h"
#include "exporter/http/http_server.h"

namespace gvisor_exporter {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<int> sandboxes = {10, 100, 200, 500};
  std::vector<bool> syscalls = {false, true};
  std::vector<bool> gzip = {false, true};  // send Accept-Encoding: gzip
  int requests = 0;                        // 0: 2000, or 1000 from 500 sandboxes up
  int warmup = 20;
  int polls = 3;
  int http_threads = 4;  // as the daemon (exporter/app/run.cc)
  // malloc_trim(0) after every Prepare, as the daemon does after every poll
  // (exporter/app/run.cc), and once after serving (as its trim after the next
  // poll would), to tell live memory from memory malloc keeps.
  // On by default, like the daemon; --no-malloc-trim shows what malloc keeps.
  bool malloc_trim = true;
  std::string keep_dir;  // --keep-exposition DIR: keep each probe's body there
};

// Sent from a child to the parent through a pipe (plain data only).
struct Result {
  int ok = 0;
  char error[256] = {};
  int sandboxes = 0, syscalls = 0, gzip = 0, requests = 0;
  int keep_alive = 0;   // the server kept the connection open
  int gzip_served = 0;  // the server answered Accept-Encoding: gzip with gzip
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  double render_ms = 0;    // the last poll's Prepare (the render, on the poll thread)
  double compress_ms = 0;  // gzip: compressing the snapshot text, part of render_ms
  double cpu_ms = 0;       // process CPU (server + client threads) per timed request
  double trim_ms = 0;      // the last malloc_trim (--malloc-trim)
  uint64_t exposition_bytes = 0, text_bytes = 0, series = 0, gzip_bytes = 0;
  uint64_t served_bytes = 0;  // body bytes of the timed requests (gzip ones with gzip on)
  uint64_t rss_before_kb = 0, rss_prepared_kb = 0, rss_kb = 0, hwm_kb = 0;
  uint64_t heap_prepared_kb = 0, heap_kb = 0;  // malloc'd and not freed (mallinfo2)
  int threads_before = 0, threads = 0;
};

// A field of /proc/self/status ("VmRSS", "VmHWM", "Threads"), as a number.
uint64_t ProcStatus(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) {
      return std::strtoull(line.c_str() + prefix.size(), nullptr, 10);
    }
  }
  return 0;
}

// Bytes allocated with malloc and not yet freed, all arenas, in KiB: the live
// heap, as opposed to RSS, which also holds freed memory malloc keeps.
uint64_t HeapInUseKb() {
  const struct mallinfo2 m = mallinfo2();
  return (m.uordblks + m.hblkhd) / 1024;
}

void Trim(Result* res) {
  const auto t0 = Clock::now();
  malloc_trim(0);
  res->trim_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One HTTP/1.1 client connection to 127.0.0.1:port.
class Client {
 public:
  explicit Client(int port) : port_(port), buf_(size_t{256} * 1024) {}
  ~Client() { Close(); }

  struct Response {
    int status = 0;
    uint64_t body_bytes = 0;
    bool keep_alive = false;  // no "Connection: close" from the server
    std::string content_encoding;
    uint64_t series = 0;  // sample lines (only counted when a sink is given)
  };

  // GET `path`, reading the whole response. With `sink`, the body is also
  // written there (streamed, no large buffer) and its sample lines counted.
  bool Get(const std::string& path, bool gzip, Response* r, FILE* sink, std::string* err) {
    if (fd_ < 0 && !Connect(err)) return false;
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                      "\r\nUser-Agent: scrape_latency_bench\r\n"
                      "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\n";
    if (gzip) req += "Accept-Encoding: gzip\r\n";
    req += "\r\n";
    if (!SendAll(req, err)) return false;
    // Headers.
    std::string head;
    size_t end = std::string::npos;
    size_t have = 0;  // bytes of buf_ after the headers
    while (end == std::string::npos) {
      const ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
      if (n <= 0) return Fail("connection closed before the headers", err);
      head.append(buf_.data(), static_cast<size_t>(n));
      end = head.find("\r\n\r\n");
      if (end != std::string::npos) have = head.size() - (end + 4);
    }
    std::istringstream lines(head.substr(0, end));
    std::string line, version;
    std::getline(lines, line);
    std::istringstream(line) >> version >> r->status;
    uint64_t length = 0;
    bool has_length = false;
    r->keep_alive = true;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string name = Lower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      if (name == "content-length") {
        length = std::strtoull(value.c_str(), nullptr, 10);
        has_length = true;
      } else if (name == "content-encoding") {
        r->content_encoding = Lower(value);
      } else if (name == "connection" && Lower(value) == "close") {
        r->keep_alive = false;
      }
    }
    at_line_start_ = true;
    Consume(head.data() + end + 4, have, r, sink);
    // Body: by Content-Length, else to EOF.
    while (!has_length || r->body_bytes < length) {
      const ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
      if (n < 0) return Fail("recv: " + std::string(std::strerror(errno)), err);
      if (n == 0) {
        if (has_length) return Fail("connection closed mid-body", err);
        r->keep_alive = false;
        break;
      }
      Consume(buf_.data(), static_cast<size_t>(n), r, sink);
    }
    if (!r->keep_alive) {
      // The server closes: wait for its FIN, as a client of a
      // "Connection: close" response does.
      while (recv(fd_, buf_.data(), buf_.size(), 0) > 0) {
      }
      Close();
    }
    return true;
  }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  bool Fail(const std::string& msg, std::string* err) {
    *err = msg;
    Close();
    return false;
  }

  bool Connect(std::string* err) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Fail("socket: " + std::string(std::strerror(errno)), err);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return Fail("connect: " + std::string(std::strerror(errno)), err);
    }
    return true;
  }

  bool SendAll(const std::string& data, std::string* err) {
    size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return Fail("send: " + std::string(std::strerror(errno)), err);
      off += static_cast<size_t>(n);
    }
    return true;
  }

  void Consume(const char* data, size_t n, Response* r, FILE* sink) {
    r->body_bytes += n;
    if (!sink) return;
    std::fwrite(data, 1, n, sink);
    for (size_t i = 0; i < n; ++i) {
      if (at_line_start_ && data[i] != '#' && data[i] != '\n') ++r->series;
      at_line_start_ = data[i] == '\n';
    }
  }

  int port_;
  int fd_ = -1;
  std::vector<char> buf_;
  bool at_line_start_ = true;
};

double CpuMs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
          static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3);
}

double Percentile(const std::vector<double>& sorted, double p) {
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

// Bytes of `path` compressed with gzip -6 (what a gzip-capable server would
// send); 0 when gzip is unavailable.
uint64_t GzipSize(const std::string& path) {
  const std::string cmd = "gzip -6 -c '" + path + "' | wc -c";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return 0;
  unsigned long long n = 0;
  if (std::fscanf(p, "%llu", &n) != 1) n = 0;
  pclose(p);
  return n;
}

// The size of the per-scrape health block (exporter's own families), to
// separate it from the snapshot's pre-rendered text.
uint64_t HealthBytes(const SnapshotStore& store, const ErrorReporter& errors) {
  ExporterHealth health;
  health.error_counts = errors.Counts();
  health.suppressed_logs = errors.suppressed_logs();
  health.now_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto snap = store.Get();
  std::string text;
  AppendHealthText(snap.get(), health, &text);
  return text.size();
}

[[noreturn]] void Report(int fd, const Result& r);

// One configuration, in a child process; reports to `out_fd` and exits.
void RunConfig(const Options& opt, int sandboxes, bool syscalls, bool gzip, Result* res,
               int out_fd) {
  res->sandboxes = sandboxes;
  res->syscalls = syscalls;
  res->gzip = gzip;
  res->requests = opt.requests > 0 ? opt.requests : (sandboxes >= 500 ? 1000 : 2000);
  auto fail = [res, out_fd](const std::string& msg) {
    std::snprintf(res->error, sizeof(res->error), "%s", msg.c_str());
    Report(out_fd, *res);
  };
  res->rss_before_kb = ProcStatus("VmRSS");
  res->threads_before = static_cast<int>(ProcStatus("Threads"));

  ErrorReporter errors;
  SnapshotStore store;
  auto collector = std::make_shared<SnapshotCollector>(&store, &errors);
  if (gzip) {
    // Prometheus's first scrape (gzip) came before these polls: from then
    // on, Prepare compresses each snapshot's text too.
    BodyPieces first_scrape;
    collector->ExpositionParts(true, &first_scrape);
  }
  for (int poll = 1; poll <= opt.polls; ++poll) {
    store.Publish(std::make_shared<NodeSnapshot>(
        synthetic::MakeNode(sandboxes, syscalls, static_cast<uint64_t>(poll))));
    const auto t0 = Clock::now();
    collector->Prepare();  // what PollerOptions::after_publish does in the daemon
    res->render_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (opt.malloc_trim) Trim(res);
  }
  res->rss_prepared_kb = ProcStatus("VmRSS");
  res->heap_prepared_kb = HeapInUseKb();

  HttpServer server({"127.0.0.1:0", "/metrics", opt.http_threads}, {collector}, nullptr, &store);
  const Status started = server.Start();
  if (!started.ok()) return fail("server start: " + started.message());
  if (server.port() == 0) return fail("server bound no port");

  Client client(server.port());
  std::string err;
  // Probe: keep-alive and gzip support; the body is kept on disk for its
  // gzip size, counted for its series.
  std::string body_path = "/tmp/scrape_latency_bench.XXXXXX";
  FILE* sink = nullptr;
  if (opt.keep_dir.empty()) {
    const int tmp_fd = mkstemp(body_path.data());
    if (tmp_fd >= 0) sink = fdopen(tmp_fd, "w");
  } else {
    body_path = opt.keep_dir + "/metrics-" + std::to_string(sandboxes) +
                (syscalls ? "-syscalls" : "") + ".txt";
    sink = std::fopen(body_path.c_str(), "w");
  }
  if (!sink) return fail("cannot create " + body_path);
  Client::Response probe;
  const bool probed = client.Get("/metrics", false, &probe, sink, &err);
  std::fclose(sink);
  if (!probed) return fail("probe: " + err);
  if (probe.status != 200) return fail("probe: HTTP " + std::to_string(probe.status));
  res->keep_alive = probe.keep_alive;
  res->series = probe.series;
  res->exposition_bytes = probe.body_bytes;
  res->text_bytes = probe.body_bytes - HealthBytes(store, errors);
  // With gzip on, a gzip probe, kept on disk to check (after the memory
  // figures) that it inflates to one member. Not with gzip off: that would
  // make the collector compress.
  FILE* gz_sink = nullptr;
  Client::Response gz;
  if (gzip) {
    std::string gz_path = "/tmp/scrape_latency_bench_gz.XXXXXX";
    const int gz_fd = mkstemp(gz_path.data());
    gz_sink = gz_fd >= 0 ? fdopen(gz_fd, "w+") : nullptr;
    if (!gz_sink) return fail("cannot create " + gz_path);
    unlink(gz_path.c_str());
    if (!client.Get("/metrics", true, &gz, gz_sink, &err)) return fail("gzip probe: " + err);
    res->gzip_served = gz.content_encoding == "gzip";
    if (!res->gzip_served) return fail("gzip requested, not served");
  }

  for (int i = 0; i < opt.warmup; ++i) {
    Client::Response r;
    if (!client.Get("/metrics", gzip, &r, nullptr, &err)) return fail("warm-up: " + err);
  }
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(res->requests));
  const double cpu0 = CpuMs();
  for (int i = 0; i < res->requests; ++i) {
    Client::Response r;
    const auto t0 = Clock::now();
    if (!client.Get("/metrics", gzip, &r, nullptr, &err)) return fail("request: " + err);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (r.status != 200) return fail("HTTP " + std::to_string(r.status));
    res->served_bytes = r.body_bytes;
  }
  res->cpu_ms = (CpuMs() - cpu0) / res->requests;
  client.Close();

  // Memory and threads with the server up, after serving.
  if (opt.malloc_trim) Trim(res);
  res->rss_kb = ProcStatus("VmRSS");
  res->heap_kb = HeapInUseKb();
  res->hwm_kb = ProcStatus("VmHWM");
  res->threads = static_cast<int>(ProcStatus("Threads"));
  if (gz_sink) {
    std::string body(gz.body_bytes, '\0'), text, why;
    std::rewind(gz_sink);
    if (std::fread(body.data(), 1, body.size(), gz_sink) != body.size()) {
      return fail("gzip probe: cannot read it back");
    }
    std::fclose(gz_sink);
    if (!GunzipOneMember(body, &text, &why)) return fail("gzip probe: " + why);
    // The identity probe's bytes, but for the digits of the snapshot's age.
    const uint64_t diff = text.size() > res->exposition_bytes ? text.size() - res->exposition_bytes
                                                              : res->exposition_bytes - text.size();
    if (diff > 32) {
      return fail("gzip probe: inflates to " + std::to_string(text.size()) + " bytes");
    }
  }
  if (gzip) {
    // The compression alone, as Prepare did it (timed apart, after the
    // memory figures).
    BodyPieces pieces;
    collector->ExpositionParts(false, &pieces);
    const auto t0 = Clock::now();
    const DeflatedText d = DeflateText(*pieces.at(0), SnapshotCollector::kGzipLevel);
    res->compress_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }

  std::sort(ms.begin(), ms.end());
  res->p50_ms = Percentile(ms, 0.50);
  res->p90_ms = Percentile(ms, 0.90);
  res->p99_ms = Percentile(ms, 0.99);
  res->max_ms = ms.back();
  res->gzip_bytes = GzipSize(body_path);
  if (opt.keep_dir.empty()) unlink(body_path.c_str());
  res->ok = 1;
  Report(out_fd, *res);
}

// Sends a child's result to the parent and exits at once: no destructors, so
// the HTTP server's threads are not joined (civetweb's stop waits up to 2 s).
[[noreturn]] void Report(int fd, const Result& r) {
  const char* p = reinterpret_cast<const char*>(&r);
  size_t off = 0;
  while (off < sizeof(r)) {
    const ssize_t n = write(fd, p + off, sizeof(r) - off);
    if (n <= 0) _exit(1);
    off += static_cast<size_t>(n);
  }
  _exit(0);
}

// Runs one configuration in a forked child; false when it failed.
bool RunForked(const Options& opt, int sandboxes, bool syscalls, bool gzip, Result* res) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    close(fds[0]);
    Result r;
    RunConfig(opt, sandboxes, syscalls, gzip, &r, fds[1]);  // does not return
    _exit(1);
  }
  close(fds[1]);
  char* p = reinterpret_cast<char*>(res);
  size_t off = 0;
  while (off < sizeof(*res)) {
    const ssize_t n = read(fds[0], p + off, sizeof(*res) - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (off != sizeof(*res)) {
    std::snprintf(res->error, sizeof(res->error), "child died (status %d)", status);
    return false;
  }
  return res->ok != 0;
}

std::string Bytes(uint64_t b) {
  char s[32];
  if (b >= 1000000) {
    std::snprintf(s, sizeof(s), "%.2f MB", static_cast<double>(b) / 1e6);
  } else {
    std::snprintf(s, sizeof(s), "%.0f KB", static_cast<double>(b) / 1e3);
  }
  return s;
}

std::string MiB(uint64_t kb) {
  char s[32];
  std::snprintf(s, sizeof(s), "%.1f MiB", static_cast<double>(kb) / 1024);
  return s;
}

std::string Ms(double v) {
  char s[32];
  std::snprintf(s, sizeof(s), v < 1 ? "%.3f ms" : v < 10 ? "%.2f ms" : "%.1f ms", v);
  return s;
}

std::string MachineLine() {
  std::string model = "?";
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  utsname u{};
  uname(&u);
  std::string load = "?";
  std::ifstream la("/proc/loadavg");
  std::getline(la, load);
  load = load.substr(0, load.find(' ', load.find(' ', load.find(' ') + 1) + 1));
  return "nproc " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + ", " + model + ", kernel " +
         u.release + " (" + u.machine + "), load average " + load;
}

bool ParseInts(const std::string& s, std::vector<int>* out, long min = 1) {
  out->clear();
  std::istringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < min || v > 1000000) return false;
    out->push_back(static_cast<int>(v));
  }
  return !out->empty();
}

int Usage() {
  std::fprintf(stderr,
               "usage: scrape_latency_bench [--sandboxes 10,100,200,500] [--syscalls off,on]\n"
               "  [--gzip off,on (send Accept-Encoding: gzip)]\n"
               "  [--requests K (default 2000; 1000 from 500 sandboxes)] [--warmup 20]\n"
               "  [--polls 3] [--http-threads 4] [--[no-]malloc-trim]\n"
               "  [--keep-exposition DIR (metrics-<N>[-syscalls].txt)]\n");
  return 2;
}

int Main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--malloc-trim" || a == "--no-malloc-trim") {
      opt.malloc_trim = a == "--malloc-trim";
      continue;
    }
    if (i + 1 >= argc) return Usage();
    const std::string v = argv[++i];
    std::vector<int> ints;
    if (a == "--sandboxes") {
      if (!ParseInts(v, &opt.sandboxes)) return Usage();
    } else if (a == "--keep-exposition") {
      opt.keep_dir = v;
    } else if (a == "--syscalls" || a == "--gzip") {
      std::vector<bool>& dim = a == "--syscalls" ? opt.syscalls : opt.gzip;
      dim.clear();
      if (v.find("off") != std::string::npos) dim.push_back(false);
      if (v.find("on") != std::string::npos) dim.push_back(true);
      if (dim.empty()) return Usage();
    } else if (a == "--requests" || a == "--warmup" || a == "--polls" || a == "--http-threads") {
      if (!ParseInts(v, &ints, a == "--warmup" ? 0 : 1) || ints.size() != 1) return Usage();
      int* field = a == "--requests" ? &opt.requests
                   : a == "--warmup" ? &opt.warmup
                   : a == "--polls"  ? &opt.polls
                                     : &opt.http_threads;
      *field = ints[0];
    } else {
      return Usage();
    }
  }

  std::vector<Result> results;
  bool all_ok = true;
  for (int n : opt.sandboxes) {
    for (bool sc : opt.syscalls) {
      for (bool gz : opt.gzip) {
        Result r;
        if (!RunForked(opt, n, sc, gz, &r)) {
          std::fprintf(stderr, "%d sandboxes, syscalls %s, gzip %s: FAILED: %s\n", n,
                       sc ? "on" : "off", gz ? "on" : "off", r.error);
          all_ok = false;
          continue;
        }
        std::fprintf(stderr,
                     "%d sandboxes, syscalls %s, gzip %s: p50 %s p99 %s (%d requests); VmRSS %s "
                     "before, %s after the polls, %s serving\n",
                     n, sc ? "on" : "off", gz ? "on" : "off", Ms(r.p50_ms).c_str(),
                     Ms(r.p99_ms).c_str(), r.requests, MiB(r.rss_before_kb).c_str(),
                     MiB(r.rss_prepared_kb).c_str(), MiB(r.rss_kb).c_str());
        results.push_back(r);
      }
    }
  }
  if (results.empty()) return 1;

  const Result& any = results.front();
  bool gzip_asked = false, gzip_served = false;
  for (const Result& r : results) {
    gzip_asked = gzip_asked || r.gzip;
    gzip_served = gzip_served || r.gzip_served;
  }
  std::printf("Machine: %s\n", MachineLine().c_str());
  std::printf(
      "HTTP: real HttpServer (civetweb, %d worker threads) on 127.0.0.1, sequential GET /metrics, "
      "%s; gzip on: the requests send Accept-Encoding: gzip, which the server %s (the client "
      "receives the gzip body, does not inflate it). %d polls (build + publish + Prepare) before "
      "serving, %d warm-up requests.\n\n",
      opt.http_threads,
      any.keep_alive ? "one keep-alive connection"
                     : "a new TCP connection per request (server answers Connection: close)",
      !gzip_asked   ? "was not asked for"
      : gzip_served ? "honours"
                    : "ignores",
      opt.polls, opt.warmup);
  if (opt.malloc_trim) {
    double trim_ms = 0;
    for (const Result& r : results) trim_ms = std::max(trim_ms, r.trim_ms);
    std::printf(
        "--malloc-trim: malloc_trim(0) after every Prepare and once after serving, before the "
        "memory figures (as the daemon trims after every poll); a trim took up to %s.\n\n",
        Ms(trim_ms).c_str());
  }
  std::printf(
      "| sandboxes | syscalls | gzip | series | exposition | of which pre-rendered | served "
      "| gzip -6 (reference) | requests | p50 | p90 | p99 | max | CPU / scrape | render / poll "
      "| of which compress |\n"
      "|---:|:---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Result& r : results) {
    std::printf(
        "| %d | %s | %s | %llu | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n",
        r.sandboxes, r.syscalls ? "on" : "off", r.gzip ? "on" : "off",
        static_cast<unsigned long long>(r.series), Bytes(r.exposition_bytes).c_str(),
        Bytes(r.text_bytes).c_str(), Bytes(r.served_bytes).c_str(),
        r.gzip_bytes ? Bytes(r.gzip_bytes).c_str() : "n/a", r.requests, Ms(r.p50_ms).c_str(),
        Ms(r.p90_ms).c_str(), Ms(r.p99_ms).c_str(), Ms(r.max_ms).c_str(), Ms(r.cpu_ms).c_str(),
        Ms(r.render_ms).c_str(), r.gzip ? Ms(r.compress_ms).c_str() : "-");
  }
  std::printf(
      "\n| sandboxes | syscalls | gzip | VmRSS after the polls (no server yet) | of which malloc "
      "in "
      "use | VmRSS serving | of which malloc in use | RSS Δ vs start | VmHWM | threads |\n"
      "|---:|:---:|:---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Result& r : results) {
    std::printf("| %d | %s | %s | %s | %s | %s | %s | +%s | %s | %d |\n", r.sandboxes,
                r.syscalls ? "on" : "off", r.gzip ? "on" : "off", MiB(r.rss_prepared_kb).c_str(),
                MiB(r.heap_prepared_kb).c_str(), MiB(r.rss_kb).c_str(), MiB(r.heap_kb).c_str(),
                MiB(r.rss_kb - std::min(r.rss_kb, r.rss_before_kb)).c_str(), MiB(r.hwm_kb).c_str(),
                r.threads);
  }
  std::printf(
      "\nAt start (before building any snapshot): VmRSS %s, %d thread. Latency: connect() to the "
      "end of the response, client in the same process. CPU / scrape: the process's CPU (server "
      "and client threads) over the timed requests, per request. Render / poll: the last "
      "SnapshotCollector::Prepare (poll thread, not on the scrape path), with gzip on including "
      "the "
      "compression of the snapshot's text (of which compress: that compression timed alone, zlib "
      "level %d). Served: the body of a timed request. Memory is the bench "
      "process (exporter library + HTTP server + snapshots + client), not the daemon with its "
      "pollers; "
      "malloc in use (mallinfo2, all arenas) is the live heap, the rest of the RSS is code, stacks "
      "and freed memory malloc keeps.\n",
      MiB(any.rss_before_kb).c_str(), any.threads_before, SnapshotCollector::kGzipLevel);
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace gvisor_exporter

int main(int argc, char** argv) { return gvisor_exporter::Main(argc, argv); }
