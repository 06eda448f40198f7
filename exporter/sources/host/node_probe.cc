// ProbeNode (declared in platform.h): what the node offers gVisor platforms.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "exporter/sources/host/platform.h"

namespace gvisor_exporter {

namespace {

// KVM_API_VERSION from <linux/kvm.h>: the only version any kernel since 2.6.22
// answers; anything else means "not the KVM we know".
constexpr int kExpectedKvmApiVersion = 12;

bool KvmAnswers(const std::string& path) {
  // Opening /dev/kvm and asking for the API version creates no VM and
  // allocates nothing in the kernel beyond the open file.
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  const int version = ::ioctl(fd, KVM_GET_API_VERSION, 0);
  ::close(fd);
  return version == kExpectedKvmApiVersion;
}

}  // namespace

NodeInfo ProbeNode(std::string runsc_version, const std::string& dev_root) {
  static_assert(KVM_API_VERSION == kExpectedKvmApiVersion);
  NodeInfo node;
  node.runsc_version = std::move(runsc_version);
  const std::string kvm = dev_root + "/kvm";
  struct stat st {};
  // stat, not lstat: udev may make /dev/kvm a symlink in some setups; what
  // matters is what opening it reaches.
  if (::stat(kvm.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) return node;
  node.kvm_device_present = true;
  node.kvm_usable = KvmAnswers(kvm);
  return node;
}

}  // namespace gvisor_exporter
