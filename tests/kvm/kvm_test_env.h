// Shared set-up for tests that need /dev/kvm and the test guest.
#ifndef FTVM_TESTS_KVM_KVM_TEST_ENV_H_
#define FTVM_TESTS_KVM_KVM_TEST_ENV_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "vmm/kvm/kvm_system.h"

namespace ft::testing {

// Skips the current test, with the reason printed, when this machine has no
// usable /dev/kvm. Everything else missing is a failure, not a skip.
#define FT_REQUIRE_KVM()                                                 \
  do {                                                                   \
    int fd_ = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);                    \
    if (fd_ < 0) {                                                       \
      GTEST_SKIP() << "/dev/kvm is not usable here (" << strerror(errno) \
                   << "): KVM tests need it";                            \
    }                                                                    \
    ::close(fd_);                                                        \
  } while (false)

// A path the build passes in through the environment (see meson.build).
inline std::string PathFromEnv(const char* name) {
  const char* v = std::getenv(name);
  EXPECT_NE(v, nullptr) << name << " is not set; run through 'meson test'";
  return v ? v : "";
}

// Collects a guest's console output; safe to read while the guest runs.
class Console {
 public:
  std::function<void(std::string_view)> Sink() {
    return [this](std::string_view s) {
      absl::MutexLock lock(&mu_);
      text_.append(s.data(), s.size());
    };
  }
  std::string Text() {
    absl::MutexLock lock(&mu_);
    return text_;
  }
  bool WaitFor(const std::string& needle, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto found = [&] { return text_.find(needle) != std::string::npos; };
    return mu_.AwaitWithTimeout(absl::Condition(&found), timeout);
  }

 private:
  absl::Mutex mu_;
  std::string text_;
};

// A fixture with an open KvmSystem (kvm_), skipping where there is no KVM.
class KvmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FT_REQUIRE_KVM();
    auto kvm = vmm::KvmSystem::Open({});
    ASSERT_TRUE(kvm.ok()) << kvm.status();
    kvm_ = std::make_unique<vmm::KvmSystem>(std::move(*kvm));
  }
  std::unique_ptr<vmm::KvmSystem> kvm_;
};

}  // namespace ft::testing

#endif  // FTVM_TESTS_KVM_KVM_TEST_ENV_H_
