// gve-cri-tool: a small CRI (runtime.v1) client for our end-to-end tests.
//
// Why our own instead of crictl: crictl is not packaged for Debian 12, and the
// tests need exactly the calls the exporter will make later, through the same
// proto subset (proto/cri_runtime.proto), with machine-readable output.
//
//   gve-cri-tool [--endpoint unix:///path/containerd.sock] [--timeout 10s] <command> ...
//
// Configs are read as JSON in the protobuf JSON mapping (field names as in the
// .proto, snake_case, or their lowerCamelCase JSON names; enums by name).
// Replies are printed as JSON with the .proto field names (snake_case, like
// crictl), every field present, int64 as strings. Ids are printed bare.
// Every call has a deadline; any failure prints one line to stderr and exits
// non-zero (1: the call failed, 2: bad usage or input).

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "proto/cri_runtime.grpc.pb.h"
#include "proto/cri_runtime.pb.h"

namespace {

namespace cri = runtime::v1;
using nlohmann::json;

constexpr char kUsage[] =
    R"(usage: gve-cri-tool [--endpoint unix:///path/sock] [--timeout 10s] <command> [args]

commands:
  version                                   runtime name and versions (JSON)
  runp <pod-config.json> [--runtime-handler H]
                                            RunPodSandbox; prints the pod id
  stopp <pod-id>                            StopPodSandbox
  rmp <pod-id>                              RemovePodSandbox
  pods [--id ID] [--state ready|notready] [--label k=v]...
                                            ListPodSandbox (JSON array)
  inspectp <pod-id>                         PodSandboxStatus, verbose (JSON, info parsed)
  create <pod-id> <container-config.json> <pod-config.json>
                                            CreateContainer; prints the container id
  start <ctr-id>                            StartContainer
  stop <ctr-id> [--grace SECONDS]           StopContainer (default grace 0: SIGKILL)
  rm <ctr-id>                               RemoveContainer
  ps [--pod ID] [--id ID] [--state created|running|exited|unknown] [--label k=v]...
                                            ListContainers (JSON array)
  inspect <ctr-id>                          ContainerStatus, verbose (JSON, info parsed)

A config path of "-" reads standard input. The endpoint defaults to
$CONTAINER_RUNTIME_ENDPOINT, else unix:///run/containerd/containerd.sock.
)";

// Thrown for bad command lines or unreadable input: exit code 2.
struct UsageError {
  std::string message;
};

// Thrown when a CRI call fails: exit code 1.
struct CallError {
  std::string message;
};

// "10s", "500ms", "2m", or plain seconds.
std::chrono::milliseconds ParseDuration(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && (isdigit(static_cast<unsigned char>(text[digits])) != 0)) {
    ++digits;
  }
  if (digits == 0 || digits > 9) throw UsageError{"bad duration: '" + text + "'"};
  long long n = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  if (unit.empty() || unit == "s") return std::chrono::seconds(n);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  throw UsageError{"bad duration unit in '" + text + "' (use ms, s or m)"};
}

std::string ReadInput(const std::string& path) {
  std::stringstream buf;
  if (path == "-") {
    buf << std::cin.rdbuf();
    return buf.str();
  }
  std::ifstream in(path);
  if (!in) throw UsageError{"cannot read " + path};
  buf << in.rdbuf();
  return buf.str();
}

// Strict on purpose: an unknown field in a test's config is a typo, and
// silently dropping it would make the test exercise something else.
template <typename Message>
Message ParseConfig(const std::string& path) {
  Message msg;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(ReadInput(path), &msg, options);
  if (!status.ok()) {
    throw UsageError{path + ": not a valid " + msg.GetDescriptor()->name() + ": " +
                     std::string{status.message()}};
  }
  return msg;
}

json ToJson(const google::protobuf::Message& msg) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;     // snake_case, as crictl prints
  options.always_print_primitive_fields = true;  // tests may rely on every field
  std::string text;
  auto status = google::protobuf::util::MessageToJsonString(msg, &text, options);
  if (!status.ok()) throw CallError{"cannot render reply: " + std::string{status.message()}};
  return json::parse(text);
}

// The verbose `info` values are JSON documents in strings; decoded here so a
// test can read info["info"]["pid"] directly. Anything that is not JSON stays
// a string.
json DecodeInfo(const google::protobuf::Map<std::string, std::string>& info) {
  json out = json::object();
  for (const auto& [key, value] : info) {
    json parsed = json::parse(value, nullptr, /*allow_exceptions=*/false);
    out[key] = parsed.is_discarded() ? json(value) : parsed;
  }
  return out;
}

// Everything after the command: positional arguments plus "--name value"
// options (also "--name=value"); options listed in `repeated` may repeat.
struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> options;

  std::optional<std::string> Get(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> GetAll(const std::string& name) const {
    std::vector<std::string> out;
    auto [begin, end] = options.equal_range(name);
    for (auto it = begin; it != end; ++it) out.push_back(it->second);
    return out;
  }
};

Args ParseArgs(const std::vector<std::string>& argv, const std::vector<std::string>& known,
               size_t want_positional) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string name = a.substr(2);
      std::string value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else {
        if (i + 1 >= argv.size()) throw UsageError{"--" + name + " needs a value"};
        value = argv[++i];
      }
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        throw UsageError{"unknown option --" + name};
      }
      args.options.emplace(name, value);
    } else {
      args.positional.push_back(a);
    }
  }
  if (args.positional.size() != want_positional) {
    throw UsageError{"expected " + std::to_string(want_positional) + " argument(s), got " +
                     std::to_string(args.positional.size())};
  }
  return args;
}

// "k=v" label selector terms.
void AddLabels(const std::vector<std::string>& terms,
               google::protobuf::Map<std::string, std::string>* selector) {
  for (const auto& term : terms) {
    auto eq = term.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError{"bad --label '" + term + "'"};
    (*selector)[term.substr(0, eq)] = term.substr(eq + 1);
  }
}

class Client {
 public:
  Client(const std::string& endpoint, std::chrono::milliseconds timeout) : timeout_(timeout) {
    grpc::ChannelArguments channel_args;
    channel_args.SetMaxReceiveMessageSize(16 << 20);  // verbose status can be large
    stub_ = cri::RuntimeService::NewStub(
        grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), channel_args));
  }

  // Runs one unary call with this client's deadline; throws CallError.
  template <typename Request, typename Response>
  Response Call(const char* name,
                grpc::Status (cri::RuntimeService::Stub::*method)(grpc::ClientContext*,
                                                                  const Request&, Response*),
                const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout_);
    Response response;
    grpc::Status status = (stub_.get()->*method)(&context, request, &response);
    if (!status.ok()) {
      throw CallError{std::string(name) + ": " + CodeName(status.error_code()) + ": " +
                      status.error_message()};
    }
    return response;
  }

 private:
  static std::string CodeName(grpc::StatusCode code) {
    switch (code) {
      case grpc::StatusCode::UNKNOWN:
        return "Unknown";
      case grpc::StatusCode::CANCELLED:
        return "Canceled";
      case grpc::StatusCode::INVALID_ARGUMENT:
        return "InvalidArgument";
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        return "DeadlineExceeded";
      case grpc::StatusCode::NOT_FOUND:
        return "NotFound";
      case grpc::StatusCode::ALREADY_EXISTS:
        return "AlreadyExists";
      case grpc::StatusCode::PERMISSION_DENIED:
        return "PermissionDenied";
      case grpc::StatusCode::FAILED_PRECONDITION:
        return "FailedPrecondition";
      case grpc::StatusCode::UNIMPLEMENTED:
        return "Unimplemented";
      case grpc::StatusCode::INTERNAL:
        return "Internal";
      case grpc::StatusCode::UNAVAILABLE:
        return "Unavailable";
      default:
        return "code " + std::to_string(static_cast<int>(code));
    }
  }

  std::chrono::milliseconds timeout_;
  std::unique_ptr<cri::RuntimeService::Stub> stub_;
};

using Stub = cri::RuntimeService::Stub;

cri::PodSandboxState ParsePodState(const std::string& s) {
  if (s == "ready") return cri::SANDBOX_READY;
  if (s == "notready") return cri::SANDBOX_NOTREADY;
  throw UsageError{"bad pod state '" + s + "' (ready|notready)"};
}

cri::ContainerState ParseContainerState(const std::string& s) {
  if (s == "created") return cri::CONTAINER_CREATED;
  if (s == "running") return cri::CONTAINER_RUNNING;
  if (s == "exited") return cri::CONTAINER_EXITED;
  if (s == "unknown") return cri::CONTAINER_UNKNOWN;
  throw UsageError{"bad container state '" + s + "' (created|running|exited|unknown)"};
}

// Runs one command; returns what to print on stdout (may be empty).
std::string Run(Client& client, const std::string& command, const std::vector<std::string>& rest) {
  if (command == "version") {
    ParseArgs(rest, {}, 0);
    cri::VersionRequest req;
    req.set_version("v1");
    return ToJson(client.Call("Version", &Stub::Version, req)).dump(2);
  }
  if (command == "runp") {
    Args args = ParseArgs(rest, {"runtime-handler"}, 1);
    cri::RunPodSandboxRequest req;
    *req.mutable_config() = ParseConfig<cri::PodSandboxConfig>(args.positional[0]);
    req.set_runtime_handler(args.Get("runtime-handler").value_or(""));
    return client.Call("RunPodSandbox", &Stub::RunPodSandbox, req).pod_sandbox_id();
  }
  if (command == "stopp" || command == "rmp") {
    Args args = ParseArgs(rest, {}, 1);
    if (command == "stopp") {
      cri::StopPodSandboxRequest req;
      req.set_pod_sandbox_id(args.positional[0]);
      client.Call("StopPodSandbox", &Stub::StopPodSandbox, req);
    } else {
      cri::RemovePodSandboxRequest req;
      req.set_pod_sandbox_id(args.positional[0]);
      client.Call("RemovePodSandbox", &Stub::RemovePodSandbox, req);
    }
    return "";
  }
  if (command == "pods") {
    Args args = ParseArgs(rest, {"id", "state", "label"}, 0);
    cri::ListPodSandboxRequest req;
    auto* filter = req.mutable_filter();
    if (auto id = args.Get("id")) filter->set_id(*id);
    if (auto state = args.Get("state")) filter->mutable_state()->set_state(ParsePodState(*state));
    AddLabels(args.GetAll("label"), filter->mutable_label_selector());
    auto resp = client.Call("ListPodSandbox", &Stub::ListPodSandbox, req);
    json out = json::array();
    for (const auto& pod : resp.items()) out.push_back(ToJson(pod));
    return out.dump(2);
  }
  if (command == "inspectp") {
    Args args = ParseArgs(rest, {}, 1);
    cri::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(args.positional[0]);
    req.set_verbose(true);
    auto resp = client.Call("PodSandboxStatus", &Stub::PodSandboxStatus, req);
    json out = {{"status", ToJson(resp.status())}, {"info", DecodeInfo(resp.info())}};
    return out.dump(2);
  }
  if (command == "create") {
    Args args = ParseArgs(rest, {}, 3);
    cri::CreateContainerRequest req;
    req.set_pod_sandbox_id(args.positional[0]);
    *req.mutable_config() = ParseConfig<cri::ContainerConfig>(args.positional[1]);
    *req.mutable_sandbox_config() = ParseConfig<cri::PodSandboxConfig>(args.positional[2]);
    return client.Call("CreateContainer", &Stub::CreateContainer, req).container_id();
  }
  if (command == "start") {
    Args args = ParseArgs(rest, {}, 1);
    cri::StartContainerRequest req;
    req.set_container_id(args.positional[0]);
    client.Call("StartContainer", &Stub::StartContainer, req);
    return "";
  }
  if (command == "stop") {
    Args args = ParseArgs(rest, {"grace"}, 1);
    cri::StopContainerRequest req;
    req.set_container_id(args.positional[0]);
    req.set_timeout(std::chrono::duration_cast<std::chrono::seconds>(
                        ParseDuration(args.Get("grace").value_or("0")))
                        .count());
    client.Call("StopContainer", &Stub::StopContainer, req);
    return "";
  }
  if (command == "rm") {
    Args args = ParseArgs(rest, {}, 1);
    cri::RemoveContainerRequest req;
    req.set_container_id(args.positional[0]);
    client.Call("RemoveContainer", &Stub::RemoveContainer, req);
    return "";
  }
  if (command == "ps") {
    Args args = ParseArgs(rest, {"pod", "id", "state", "label"}, 0);
    cri::ListContainersRequest req;
    auto* filter = req.mutable_filter();
    if (auto pod = args.Get("pod")) filter->set_pod_sandbox_id(*pod);
    if (auto id = args.Get("id")) filter->set_id(*id);
    if (auto state = args.Get("state")) {
      filter->mutable_state()->set_state(ParseContainerState(*state));
    }
    AddLabels(args.GetAll("label"), filter->mutable_label_selector());
    auto resp = client.Call("ListContainers", &Stub::ListContainers, req);
    json out = json::array();
    for (const auto& c : resp.containers()) out.push_back(ToJson(c));
    return out.dump(2);
  }
  if (command == "inspect") {
    Args args = ParseArgs(rest, {}, 1);
    cri::ContainerStatusRequest req;
    req.set_container_id(args.positional[0]);
    req.set_verbose(true);
    auto resp = client.Call("ContainerStatus", &Stub::ContainerStatus, req);
    json out = {{"status", ToJson(resp.status())}, {"info", DecodeInfo(resp.info())}};
    return out.dump(2);
  }
  throw UsageError{"unknown command '" + command + "'"};
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint = "unix:///run/containerd/containerd.sock";
  if (const char* env = std::getenv("CONTAINER_RUNTIME_ENDPOINT"); env != nullptr && *env) {
    endpoint = env;
  }
  std::string timeout_text = "10s";
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    // Global options come before the command.
    size_t i = 0;
    for (; i < args.size() && args[i].rfind("--", 0) == 0; ++i) {
      std::string name = args[i];
      std::string value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else if (name == "--help") {
        std::cout << kUsage;
        return 0;
      } else if (name != "--endpoint" && name != "--timeout") {
        throw UsageError{"unknown option " + name};
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        throw UsageError{name + " needs a value"};
      }
      if (name == "--endpoint") {
        endpoint = value;
      } else if (name == "--timeout") {
        timeout_text = value;
      } else {
        throw UsageError{"unknown option " + name};
      }
    }
    if (i >= args.size()) throw UsageError{"no command given"};
    // gRPC wants the scheme; accept a bare socket path too.
    if (endpoint.starts_with('/')) endpoint = "unix://" + endpoint;
    Client client(endpoint, ParseDuration(timeout_text));
    std::string out =
        Run(client, args[i], std::vector<std::string>(args.begin() + i + 1, args.end()));
    if (!out.empty()) std::cout << out << "\n";
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "gve-cri-tool: " << e.message << "\n" << kUsage;
    return 2;
  } catch (const CallError& e) {
    std::cerr << "gve-cri-tool: " << endpoint << ": " << e.message << "\n";
    return 1;
  } catch (const std::exception& e) {  // e.g. a reply that is not valid JSON
    std::cerr << "gve-cri-tool: " << e.what() << "\n";
    return 1;
  }
}
