// Status helpers: propagation macros and errno conversion.
//
// Debian 12's abseil (20220623) ships no status macros, so ftvm defines its
// own. Everything the environment or a peer can cause returns absl::Status or
// absl::StatusOr<T>; invariants use FT_CHECK (common/check.h).
#ifndef FTVM_COMMON_STATUS_H_
#define FTVM_COMMON_STATUS_H_

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ft {

// A Status for a failed system call: the code follows errno (EACCES ->
// PermissionDenied, ENOENT -> NotFound, ...) and the message is
// "<what>: <strerror(errno)>".
absl::Status ErrnoStatus(int err, std::string_view what);

// Prefixes `status`'s message with `context` ("loading kernel: ..."), keeping
// its code. OK stays OK.
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace ft

#define FT_STATUS_CONCAT_INNER_(a, b) a##b
#define FT_STATUS_CONCAT_(a, b) FT_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define FT_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status ft_status_ = (expr);      \
    if (!ft_status_.ok()) return ft_status_; \
  } while (false)

// `FT_ASSIGN_OR_RETURN(auto x, MakeX());` declares/assigns `x` from a
// StatusOr, or returns its error from the enclosing function.
#define FT_ASSIGN_OR_RETURN(lhs, expr)                                         \
  FT_ASSIGN_OR_RETURN_IMPL_(FT_STATUS_CONCAT_(ft_statusor_, __COUNTER__), lhs, \
                            expr)

#define FT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).status();  \
  lhs = std::move(tmp).value()

#endif  // FTVM_COMMON_STATUS_H_
