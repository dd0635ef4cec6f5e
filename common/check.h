// FT_CHECK: invariant checks that stay on in release builds.
//
// A primary that breaks an invariant must stop dead (fail-stop) so that the
// secondary takes over; continuing with corrupt state would be worse. Use
// Status for anything the environment, the guest or a peer can cause.
#ifndef FTVM_COMMON_CHECK_H_
#define FTVM_COMMON_CHECK_H_

#include <sstream>

#include "absl/status/statusor.h"

namespace ft::internal {

// Collects the streamed message and aborts in its destructor.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

inline absl::Status StatusOf(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// Lets the ternary in FT_CHECK have type void on both branches.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace ft::internal

// FT_CHECK(cond) << "optional context";
#define FT_CHECK(cond)              \
  (cond)                            \
      ? (void)0                     \
      : ::ft::internal::Voidify() & \
            ::ft::internal::CheckFailure(__FILE__, __LINE__, #cond).stream()

// FT_CHECK_OK(status_or_statusor): the expression and the error are printed.
#define FT_CHECK_OK(expr)                                                      \
  do {                                                                         \
    const ::absl::Status ft_check_status_ = ::ft::internal::StatusOf(expr);    \
    if (!ft_check_status_.ok()) {                                              \
      ::ft::internal::CheckFailure(__FILE__, __LINE__, #expr ".ok()").stream() \
          << ft_check_status_.ToString();                                      \
    }                                                                          \
  } while (false)

#endif  // FTVM_COMMON_CHECK_H_
