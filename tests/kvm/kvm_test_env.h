// Shared set-up for tests that need /dev/kvm and the test guest.
#ifndef FTVM_TESTS_KVM_KVM_TEST_ENV_H_
#define FTVM_TESTS_KVM_KVM_TEST_ENV_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

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

}  // namespace ft::testing

#endif  // FTVM_TESTS_KVM_KVM_TEST_ENV_H_
